"""Provider actions: one documented request per action, built on :mod:`.base` (decision 0044)."""
