"""SQL of the automation service, one module per aggregate: :mod:`.automations` (automations, their
versions and the outbox of their changes)."""
