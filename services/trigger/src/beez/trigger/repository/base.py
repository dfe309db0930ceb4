"""What the trigger's query classes share: the transaction's connection and a few helpers."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Text, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection


class Queries:
    """Queries bound to one transaction's connection; they never commit.

    :class:`~beez.trigger.repository.Repository` combines the query classes of every aggregate
    into the one object a unit of work uses.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _wrote(self, stmt: Any, params: dict[str, Any]) -> bool:
        """Runs an ``INSERT``/``UPDATE ... RETURNING``; True when it wrote a row."""
        return (await self.conn.execute(stmt, params)).first() is not None


def param(name: str, type_: Any = Text) -> Any:
    """A named bind parameter, so a statement is built once and run with many values."""
    return bindparam(name, type_=type_)


IDS = bindparam("ids", type_=ARRAY(Text))
"""The ``ids`` array parameter of the statements on a set of execution ids."""


def rowcount(result: Any) -> int:
    """The rows a ``DELETE``/``UPDATE`` touched."""
    return int(cast(CursorResult[Any], result).rowcount)
