"""Webhook signing secrets: one set per organization, stored encrypted, rotated with an overlap.

:mod:`beez.kit.keyring` holds the Fernet keys that encrypt the secrets
(``BEEZ_SIGNING_KEYS_FILE``); :mod:`.store` keeps each organization's secrets and answers which
ones sign a request now.
The signature itself is :func:`beez.executor.actions.http.sign` (decision 0019).
"""
