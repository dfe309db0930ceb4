"""Connections in the executor's database: encrypted credentials, the shared access token, and
the rate a provider's 429s left (decision 0040). All SQL of connections is here.

Every query is scoped by organization: another organization's connection is not found.
Credentials are a JSON object encrypted with the signing key ring (``KeyRing``, decision 0019:
the first key encrypts, every key decrypts, ``encryption_key_id`` names the one used); they are
decrypted only to make a call, and never returned by the RPCs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from beez.executor.models import Connection
from beez.kit.db import Database
from beez.kit.grpc.errors import AlreadyExists, NotFound
from beez.kit.keyring import KeyRing

__all__ = ["AIMD", "ConnectionRow", "ConnectionStore", "TokenGrant"]

_TABLE = cast(Table, Connection.__table__)
_PUBLIC = (
    _TABLE.c.id,
    _TABLE.c.provider,
    _TABLE.c.name,
    _TABLE.c.fields,
    _TABLE.c.created_at,
    _TABLE.c.created_by,
    _TABLE.c.rotated_at,
    _TABLE.c.access_expires_at,
    _TABLE.c.rate_per_s,
    _TABLE.c.rate_burst,
    _TABLE.c.rate_factor,
    _TABLE.c.rate_lowered_at,
)


@dataclass(frozen=True)
class AIMD:
    """How a provider's 429 lowers a connection's rate and how it comes back.

    A 429 multiplies the rate's factor by ``decrease`` (never below ``floor``), at most once per
    ``hold_s`` (the many steps that meet the same throttling lower it once); from then on the
    factor grows back by ``recovery_per_s`` each second until it is 1 again.
    """

    decrease: float = 0.5
    floor: float = 0.05
    hold_s: float = 5.0
    recovery_per_s: float = 0.1 / 30  # a tenth of the rate back every 30 s

    def factor(self, stored: float, lowered_at: datetime | None, now: datetime) -> float:
        """The factor in force at ``now`` given the stored one and when it was lowered."""
        if lowered_at is None:
            return min(1.0, stored)
        elapsed = max(0.0, (now - lowered_at).total_seconds())
        return min(1.0, stored + elapsed * self.recovery_per_s)


@dataclass(frozen=True)
class ConnectionRow:
    """A connection without its secrets."""

    id: str
    provider: str
    name: str
    fields: list[str]
    created_at: datetime
    created_by: str
    rotated_at: datetime | None
    access_expires_at: datetime | None
    rate_per_s: float | None
    rate_burst: float | None
    rate_factor: float
    rate_lowered_at: datetime | None


@dataclass(frozen=True)
class TokenGrant:
    """What an OAuth2 token endpoint answered."""

    access_token: str
    expires_at: datetime
    refresh_token: str | None = None
    extra: dict[str, str] | None = None
    """Credential fields the answer updates (Salesforce's ``instance_url``)."""


def _row(mapping: Mapping[Any, Any]) -> ConnectionRow:
    return ConnectionRow(**{name: mapping[name] for name in ConnectionRow.__dataclass_fields__})


Refresh = Callable[[dict[str, str]], Awaitable[TokenGrant]]


class ConnectionStore:
    """The connections table, with the key ring that encrypts its credentials."""

    def __init__(self, db: Database, ring: KeyRing, aimd: AIMD | None = None) -> None:
        self.db = db
        self.ring = ring
        self.aimd = aimd or AIMD()

    def _seal(self, credentials: dict[str, str]) -> tuple[str, bytes]:
        return self.ring.encrypt(json.dumps(credentials, sort_keys=True))

    def _open(self, token: bytes) -> dict[str, str]:
        return cast(dict[str, str], json.loads(self.ring.decrypt(token)))

    async def create(
        self,
        org_id: str,
        user_id: str,
        provider: str,
        name: str,
        credentials: dict[str, str],
        rate: tuple[float | None, float | None],
        now: datetime,
    ) -> ConnectionRow:
        key_id, ciphertext = self._seal(credentials)
        connection_id = "conn_" + secrets.token_hex(10)
        try:
            async with self.db.transaction() as session:
                await session.execute(
                    insert(_TABLE).values(
                        id=connection_id,
                        org_id=org_id,
                        provider=provider,
                        name=name,
                        ciphertext=ciphertext,
                        encryption_key_id=key_id,
                        fields=sorted(credentials),
                        rate_per_s=rate[0],
                        rate_burst=rate[1],
                        created_at=now,
                        created_by=user_id,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"a connection named {name!r} already exists") from None
        return await self.get(org_id, connection_id)

    async def of_org(self, org_id: str, provider: str = "") -> list[ConnectionRow]:
        query = select(*_PUBLIC).where(_TABLE.c.org_id == org_id)
        if provider:
            query = query.where(_TABLE.c.provider == provider)
        async with self.db.sessions() as session:
            rows = await session.execute(query.order_by(_TABLE.c.provider, _TABLE.c.name, _TABLE.c.id))
            return [_row(row._mapping) for row in rows]

    async def get(self, org_id: str, connection_id: str) -> ConnectionRow:
        async with self.db.sessions() as session:
            row = (
                await session.execute(
                    select(*_PUBLIC).where(_TABLE.c.org_id == org_id, _TABLE.c.id == connection_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"connection {connection_id} not found")
        return _row(row._mapping)

    async def credentials(self, org_id: str, connection_id: str) -> dict[str, str]:
        """The decrypted credentials (to make a call; never to return)."""
        return self.open(await self.sealed(org_id, connection_id))

    async def sealed(self, org_id: str, connection_id: str) -> bytes:
        """The credentials as stored, encrypted (what a cache may hold); NotFound when missing."""
        async with self.db.sessions() as session:
            token = (
                await session.execute(
                    select(_TABLE.c.ciphertext).where(_TABLE.c.org_id == org_id, _TABLE.c.id == connection_id)
                )
            ).scalar_one_or_none()
        if token is None:
            raise NotFound(f"connection {connection_id} not found")
        return bytes(token)

    def open(self, token: bytes) -> dict[str, str]:
        """Credentials :meth:`sealed` returned, decrypted."""
        return self._open(token)

    async def rotate(
        self, org_id: str, connection_id: str, credentials: dict[str, str], now: datetime
    ) -> ConnectionRow:
        """Replaces the credentials (encrypted under the ring's current key) and forgets the
        cached access token, which the old credentials issued."""
        key_id, ciphertext = self._seal(credentials)
        async with self.db.transaction() as session:
            done = await session.execute(
                update(_TABLE)
                .where(_TABLE.c.org_id == org_id, _TABLE.c.id == connection_id)
                .values(
                    ciphertext=ciphertext,
                    encryption_key_id=key_id,
                    fields=sorted(credentials),
                    access_ciphertext=None,
                    access_expires_at=None,
                    rotated_at=now,
                )
                .returning(_TABLE.c.id)
            )
            if done.first() is None:
                raise NotFound(f"connection {connection_id} not found")
        return await self.get(org_id, connection_id)

    async def set_rate(
        self, org_id: str, connection_id: str, rate: tuple[float | None, float | None]
    ) -> ConnectionRow:
        async with self.db.transaction() as session:
            done = await session.execute(
                update(_TABLE)
                .where(_TABLE.c.org_id == org_id, _TABLE.c.id == connection_id)
                .values(rate_per_s=rate[0], rate_burst=rate[1])
                .returning(_TABLE.c.id)
            )
            if done.first() is None:
                raise NotFound(f"connection {connection_id} not found")
        return await self.get(org_id, connection_id)

    async def delete(self, org_id: str, connection_id: str) -> None:
        async with self.db.transaction() as session:
            done = await session.execute(
                delete(_TABLE)
                .where(_TABLE.c.org_id == org_id, _TABLE.c.id == connection_id)
                .returning(_TABLE.c.id)
            )
            if done.first() is None:
                raise NotFound(f"connection {connection_id} not found")

    async def access_token(
        self,
        org_id: str,
        connection_id: str,
        now: datetime,
        refresh: Refresh,
        *,
        skew: timedelta,
        force: bool = False,
    ) -> tuple[str, datetime]:
        """The connection's access token and its expiry, refreshed first when it expires within
        ``skew`` (or ``force``).

        The refresh happens with the connection's row locked (``FOR UPDATE``), and the lock
        holder checks again once it has the lock: replicas and concurrent steps that find the
        token stale queue on the lock and then find the token the first one stored, so a
        connection is refreshed once, however many steps need it at the same moment.
        """
        if not force:
            async with self.db.sessions() as session:
                row = (
                    await session.execute(
                        select(_TABLE.c.access_ciphertext, _TABLE.c.access_expires_at).where(
                            _TABLE.c.org_id == org_id, _TABLE.c.id == connection_id
                        )
                    )
                ).first()
            if row is None:
                raise NotFound(f"connection {connection_id} not found")
            if row[0] is not None and row[1] is not None and row[1] - skew > now:
                return self.ring.decrypt(row[0]), row[1]
        async with self.db.transaction() as session:
            locked = (
                await session.execute(
                    select(
                        _TABLE.c.ciphertext,
                        _TABLE.c.access_ciphertext,
                        _TABLE.c.access_expires_at,
                        func.clock_timestamp(),
                    )
                    .where(_TABLE.c.org_id == org_id, _TABLE.c.id == connection_id)
                    .with_for_update()
                )
            ).first()
            if locked is None:
                raise NotFound(f"connection {connection_id} not found")
            sealed, access, expires_at, _ = locked
            if not force and access is not None and expires_at is not None and expires_at - skew > now:
                return self.ring.decrypt(access), expires_at  # another caller refreshed it meanwhile
            credentials = self._open(sealed)
            grant = await refresh(credentials)
            values: dict[str, object] = {
                "access_ciphertext": self.ring.encrypt(grant.access_token)[1],
                "access_expires_at": grant.expires_at,
            }
            changed = dict(grant.extra or {})
            if grant.refresh_token and grant.refresh_token != credentials.get("refresh_token"):
                changed["refresh_token"] = grant.refresh_token  # a provider that rotates them
            if changed:
                credentials.update(changed)
                values["encryption_key_id"], values["ciphertext"] = self._seal(credentials)
                values["fields"] = sorted(credentials)
            await session.execute(update(_TABLE).where(_TABLE.c.id == connection_id).values(**values))
        return grant.access_token, grant.expires_at

    async def throttled(self, connection_id: str, now: datetime) -> None:
        """A provider answered 429: lowers the connection's rate factor (see :class:`AIMD`)."""
        aimd = self.aimd
        elapsed = func.greatest(0.0, func.extract("epoch", literal(now) - _TABLE.c.rate_lowered_at))
        current = func.least(1.0, func.coalesce(_TABLE.c.rate_factor + elapsed * aimd.recovery_per_s, 1.0))
        async with self.db.transaction() as session:
            await session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.id == connection_id,
                    (_TABLE.c.rate_lowered_at.is_(None))
                    | (_TABLE.c.rate_lowered_at < now - timedelta(seconds=aimd.hold_s)),
                )
                .values(
                    rate_factor=func.greatest(aimd.floor, current * aimd.decrease),
                    rate_lowered_at=now,
                )
            )

    async def rewrap(self, org_id: str) -> int:
        """Re-encrypts ``org_id``'s credentials under the ring's current key (after a key
        rotation); returns how many rows changed."""
        changed = 0
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(_TABLE.c.id, _TABLE.c.ciphertext, _TABLE.c.access_ciphertext)
                .where(_TABLE.c.org_id == org_id, _TABLE.c.encryption_key_id != self.ring.primary)
                .with_for_update()
            )
            for connection_id, sealed, access in rows.all():
                await session.execute(
                    update(_TABLE)
                    .where(_TABLE.c.id == connection_id)
                    .values(
                        ciphertext=self.ring.rewrap(sealed),
                        access_ciphertext=self.ring.rewrap(access) if access is not None else None,
                        encryption_key_id=self.ring.primary,
                    )
                )
                changed += 1
        return changed


async def waiting_by_provider(db: Database) -> dict[str, int]:
    """Steps waiting on a connection's rate limit right now, per provider (their timers' kind is
    ``rate_limit:<provider>``), across every replica."""
    from beez.executor.models import Timer

    timers = cast(Table, Timer.__table__)
    async with db.sessions() as session:
        rows = await session.execute(
            select(timers.c.kind, func.count())
            .where(timers.c.kind.like("rate_limit:%"))
            .group_by(timers.c.kind)
        )
        return {str(kind).removeprefix("rate_limit:"): int(count) for kind, count in rows}
