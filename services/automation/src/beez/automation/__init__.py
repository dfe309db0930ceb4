"""Automations: CRUD, versions, validation, the catalog; publishes automation changes."""
