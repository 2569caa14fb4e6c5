"""Coordinador (`nexo` schema) access: introspected read-only functions as governed tools."""
