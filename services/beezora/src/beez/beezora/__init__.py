"""Beezora, the assistant that turns a sentence into a valid workflow."""
