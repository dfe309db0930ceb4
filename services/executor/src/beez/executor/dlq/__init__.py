"""The bus's dead letters: folded in from the DLQ stream, listed, shown masked, re-driven, purged.

See docs/decisions/0029-dead-letters-you-can-re-drive.md.
"""
