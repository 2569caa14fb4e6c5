"""miot-harness: a governed conversational harness over Coordinador read-only SQL functions."""
