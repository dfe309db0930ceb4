"""Each organization's webhook signing secrets: rotated, listed, and looked up to sign.

A secret is ``whsec_`` and 32 random bytes; its id (``whk_...``) goes in every signature it
makes, so a receiver knows which secret to check. Rotating creates a new current secret and
gives the organization's earlier ones an end ``overlap`` later: until then a request carries a
signature by each, so receivers that have not switched yet keep verifying. Everything is keyed
by the organization: the secrets that sign an execution's request are looked up by that
execution's organization, so one organization can never sign as another.

Lookups for signing are cached per organization for ``cache_s`` (a webhook need not cost a
query); a rotation in this process clears its organization's entry, and other replicas pick the
new secret up within ``cache_s`` while the old one still signs.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, func, insert, or_, select, update

from beez.executor.models import WebhookSigningSecret
from beez.kit.cache import BoundedCache
from beez.kit.db import Database
from beez.kit.keyring import KeyRing

__all__ = ["DEFAULT_OVERLAP", "MAX_OVERLAP", "SigningKey", "SigningSecrets"]

DEFAULT_OVERLAP = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=30)

_TABLE = cast(Table, WebhookSigningSecret.__table__)
_NEWEST_FIRST = (
    _TABLE.c.expires_at.is_(None).desc(),  # the current one, then by when they stop signing
    _TABLE.c.expires_at.desc(),
    _TABLE.c.created_at.desc(),
)


@dataclass(frozen=True)
class SigningKey:
    """A secret's public part."""

    key_id: str
    created_at: datetime
    expires_at: datetime | None

    @property
    def current(self) -> bool:
        return self.expires_at is None


@dataclass(frozen=True)
class _Cached:
    fetched: float
    rows: tuple[tuple[str, str, datetime | None], ...]

    def size(self) -> int:
        """About the bytes it holds: its key ids and secrets, and a fixed cost per row."""
        return sum(len(key_id) + len(secret) + 64 for key_id, secret, _ in self.rows) + 64


ORGS_CACHED = 10_000
"""Organizations whose signing secrets a process keeps (least recently used dropped first)."""
SECRETS_BYTES_CACHED = 8 * 1024 * 1024


class SigningSecrets:
    """The signing secrets of every organization, in the executor's database."""

    def __init__(self, db: Database, ring: KeyRing, *, cache_s: float = 30.0) -> None:
        self.db = db
        self.ring = ring
        self.cache_s = cache_s
        self._cache: BoundedCache[str, _Cached] = BoundedCache(
            max_entries=ORGS_CACHED, max_bytes=SECRETS_BYTES_CACHED, sizeof=_Cached.size
        )

    async def rotate(
        self, org_id: str, now: datetime, overlap: timedelta = DEFAULT_OVERLAP
    ) -> tuple[SigningKey, str]:
        """A new current secret for ``org_id`` (returned this once, stored encrypted); the
        organization's other secrets that still sign stop at ``now + overlap`` at the latest."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        key = SigningKey("whk_" + secrets.token_hex(8), now, None)
        encryption_key_id, ciphertext = self.ring.encrypt(secret)
        ends = now + overlap
        async with self.db.transaction() as session:
            # one rotation at a time per organization, so there is only ever one current secret
            await session.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended("webhook-signing:" + org_id, 0)))
            )
            await session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.org_id == org_id,
                    or_(_TABLE.c.expires_at.is_(None), _TABLE.c.expires_at > ends),
                )
                .values(expires_at=ends)
            )
            await session.execute(  # long gone: nothing signs with them any more
                delete(_TABLE).where(_TABLE.c.org_id == org_id, _TABLE.c.expires_at < now - MAX_OVERLAP)
            )
            await session.execute(
                insert(_TABLE).values(
                    org_id=org_id,
                    key_id=key.key_id,
                    ciphertext=ciphertext,
                    encryption_key_id=encryption_key_id,
                    created_at=now,
                    expires_at=None,
                )
            )
        self._cache.pop(org_id)
        return key, secret

    async def keys(self, org_id: str, now: datetime) -> list[SigningKey]:
        """``org_id``'s secrets that still sign at ``now``, newest first, without the secrets."""
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(_TABLE.c.key_id, _TABLE.c.created_at, _TABLE.c.expires_at)
                .where(
                    _TABLE.c.org_id == org_id, or_(_TABLE.c.expires_at.is_(None), _TABLE.c.expires_at > now)
                )
                .order_by(*_NEWEST_FIRST)
            )
            return [SigningKey(*row) for row in rows]

    async def signing(self, org_id: str, now: datetime) -> list[tuple[str, str]]:
        """``(key id, secret)`` of each secret of ``org_id`` that signs at ``now``, newest first;
        empty when the organization has none (its requests go unsigned)."""
        cached = self._cache.get(org_id)
        if cached is None or time.monotonic() - cached.fetched >= self.cache_s:
            async with self.db.sessions() as session:
                rows = await session.execute(
                    select(_TABLE.c.key_id, _TABLE.c.ciphertext, _TABLE.c.expires_at)
                    .where(_TABLE.c.org_id == org_id)
                    .order_by(*_NEWEST_FIRST)
                )
                found = tuple((key_id, self.ring.decrypt(token), ends) for key_id, token, ends in rows)
            cached = _Cached(time.monotonic(), found)
            self._cache.put(org_id, cached)
        return [(key_id, secret) for key_id, secret, ends in cached.rows if ends is None or ends > now]
