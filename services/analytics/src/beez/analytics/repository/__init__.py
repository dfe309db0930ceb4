"""SQL of the analytics service, one module per aggregate: :mod:`.stats` (execution outcomes,
automation counters and the inbox of the lifecycle consumer)."""
