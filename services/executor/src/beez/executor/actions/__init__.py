"""The actions the executor runs: one module per family, a registry by type."""
