"""Hiding the secrets a URL can carry before it is logged or printed.

A URL may hold a password (``postgresql://beez:secret@db/beez``) or, for NATS, a token or a user
and password (``nats://token@host``, ``nats://user:secret@host``). Whatever logs or prints a NATS
or database URL passes it through :func:`redact_url` first.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_TOKEN_SCHEMES = frozenset({"nats", "tls", "ws", "wss"})
"""Schemes whose user-info without a password is a token, hidden whole (elsewhere it is a user name)."""


def redact_url(url: str) -> str:
    """``url`` (or a comma-separated list of URLs, as NATS takes) without its secrets.

    A password becomes ``***`` and the user name stays (``postgresql://beez:***@db/beez``); on a
    NATS URL, user-info without a password is a token and becomes ``***`` whole. Anything that
    does not parse as a URL with a host is masked entirely rather than risk printing a secret.
    """
    return ",".join(_redact_one(part) for part in url.split(","))


def _redact_one(url: str) -> str:
    text = url.strip()
    if "@" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return MASK
    if not parts.scheme or "@" not in parts.netloc:
        return MASK
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if has_password:
        safe = f"{user}:{MASK}" if user else MASK
    else:
        safe = MASK if parts.scheme.lower() in _TOKEN_SCHEMES else user
    return urlunsplit(parts._replace(netloc=f"{safe}@{hostport}"))
