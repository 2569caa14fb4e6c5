"""The embedded Coordinador demo database: cluster management, schema, roles and data generator."""
