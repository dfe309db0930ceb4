"""Connections: each organization's provider credentials, encrypted, and their rate limits."""
