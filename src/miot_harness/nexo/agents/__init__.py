"""The Nexo graph's nodes: each reads `NexoState`, returns a delta and writes its events."""
