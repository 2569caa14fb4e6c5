"""The eval harness: golden set, validation, scorers and the `miot-harness-evals` command."""
