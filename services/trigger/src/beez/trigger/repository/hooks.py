"""Inbound webhooks: their rows, always read and changed within one organization."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_, update

from beez.trigger.models import hooks
from beez.trigger.repository.base import Queries, rowcount


@dataclass(frozen=True, slots=True)
class StoredHook:
    """A hook row; ``secret`` is the Fernet token, never the plain secret."""

    id: str
    org_id: str
    name: str
    event_type: str
    contact_id_path: str
    require_signature: bool
    token_prefix: str
    secret: bytes
    created_at: datetime
    rotated_at: datetime | None


_COLUMNS = (
    hooks.c.id,
    hooks.c.org_id,
    hooks.c.name,
    hooks.c.event_type,
    hooks.c.contact_id_path,
    hooks.c.require_signature,
    hooks.c.token_prefix,
    hooks.c.secret,
    hooks.c.created_at,
    hooks.c.rotated_at,
)


def _stored(row: Any) -> StoredHook:
    return StoredHook(*row)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a token and secret leave in the row: the token's hash and prefix, the encrypted secret."""

    token_hash: str
    token_prefix: str
    secret: bytes
    secret_key_id: str


class HookQueries(Queries):
    """Create, read, rotate and delete hooks; find one by its token's hash."""

    async def count_hooks(self, org_id: str) -> int:
        found = await self.conn.scalar(
            select(func.count()).select_from(hooks).where(hooks.c.org_id == org_id)
        )
        return int(found or 0)

    async def insert_hook(self, hook: StoredHook, credentials: Credentials) -> None:
        await self.conn.execute(
            insert(hooks).values(
                id=hook.id,
                org_id=hook.org_id,
                name=hook.name,
                event_type=hook.event_type,
                contact_id_path=hook.contact_id_path,
                require_signature=hook.require_signature,
                token_hash=credentials.token_hash,
                token_prefix=credentials.token_prefix,
                secret=credentials.secret,
                secret_key_id=credentials.secret_key_id,
                created_at=hook.created_at,
                rotated_at=None,
            )
        )

    async def get_hook(self, org_id: str, hook_id: str) -> StoredHook | None:
        row = (
            await self.conn.execute(select(*_COLUMNS).where(hooks.c.org_id == org_id, hooks.c.id == hook_id))
        ).first()
        return _stored(row) if row is not None else None

    async def hook_by_token(self, org_id: str, token_hash: str) -> StoredHook | None:
        """The hook of ``org_id`` whose token hashes to ``token_hash`` (unique index), or None."""
        row = (
            await self.conn.execute(
                select(*_COLUMNS).where(hooks.c.token_hash == token_hash, hooks.c.org_id == org_id)
            )
        ).first()
        return _stored(row) if row is not None else None

    async def list_hooks(
        self, org_id: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[StoredHook]:
        """``org_id``'s hooks in creation order, after the cursor ``(created_at, id)``."""
        query = select(*_COLUMNS).where(hooks.c.org_id == org_id)
        if after is not None:
            query = query.where(tuple_(hooks.c.created_at, hooks.c.id) > tuple_(*after))
        query = query.order_by(hooks.c.created_at, hooks.c.id).limit(limit)
        return [_stored(row) for row in await self.conn.execute(query)]

    async def rotate_hook(
        self, org_id: str, hook_id: str, credentials: Credentials, now: datetime
    ) -> StoredHook | None:
        """Replaces the token and secret; None when ``org_id`` has no such hook."""
        row = (
            await self.conn.execute(
                update(hooks)
                .where(hooks.c.org_id == org_id, hooks.c.id == hook_id)
                .values(
                    token_hash=credentials.token_hash,
                    token_prefix=credentials.token_prefix,
                    secret=credentials.secret,
                    secret_key_id=credentials.secret_key_id,
                    rotated_at=now,
                )
                .returning(*_COLUMNS)
            )
        ).first()
        return _stored(row) if row is not None else None

    async def delete_hook(self, org_id: str, hook_id: str) -> bool:
        result = await self.conn.execute(delete(hooks).where(hooks.c.org_id == org_id, hooks.c.id == hook_id))
        return rowcount(result) > 0
