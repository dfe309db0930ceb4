"""Every query of the template library: templates, ratings and daily usage, on the caller's session.

A template is visible to an organization when it is built-in (``org_id`` NULL) or its own, and
not retired; every read here takes the caller's organization and applies that rule, so another
organization's personal template answers NOT_FOUND like a missing one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, literal, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.automation.models import Automation, TemplateRating, TemplateRow, TemplateUsage

_WORD = re.compile(r"[a-z0-9]+")
TYPO_SIMILARITY = 0.35
"""The least ``word_similarity`` of the query to a template's name and tags that counts as a
match when no word matched exactly (typos: "abandonned cart")."""


def search_vector(name: str, tags: Iterable[str], subcategory: str, description: str) -> ColumnElement[Any]:
    """The weighted ``tsvector`` a template is searched by: name A, tags and subcategory B,
    description C."""

    def part(words: str, weight: str) -> ColumnElement[Any]:
        return func.setweight(func.to_tsvector("english", words), literal_column(f"'{weight}'::\"char\""))

    return (
        part(name, "A")
        .op("||")(part(" ".join(tags), "B"))
        .op("||")(part(subcategory.replace("_", " "), "B"))
        .op("||")(part(description, "C"))
    )


@dataclass(frozen=True)
class TemplateFilter:
    """ListTemplates' filters; empty means any."""

    category: str = ""
    subcategory: str = ""
    industry: str = ""
    tag: str = ""
    integration: str = ""
    difficulty: str = ""


class TemplateRepository:
    """Queries over ``templates``, ``template_ratings`` and ``template_usage``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _visible(org_id: str) -> Select[TemplateRow]:
        return select(TemplateRow).where(
            or_(TemplateRow.org_id.is_(None), TemplateRow.org_id == org_id), TemplateRow.deleted_at.is_(None)
        )

    # --- built-ins -------------------------------------------------------------------------

    async def builtin_digests(self) -> dict[str, tuple[str, bool]]:
        """Each stored built-in's digest and whether it is retired."""
        rows = await self._session.execute(
            select(TemplateRow.id, TemplateRow.digest, TemplateRow.deleted_at).where(
                TemplateRow.org_id.is_(None)
            )
        )
        return {row.id: (row.digest, row.deleted_at is not None) for row in rows}

    async def upsert_builtin(self, values: dict[str, Any]) -> None:
        """Inserts a built-in or rewrites its content (its counters and ratings stay)."""
        content = {key: value for key, value in values.items() if key not in ("id", "create_time")}
        statement = insert(TemplateRow).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[TemplateRow.id], set_={**content, "deleted_at": None}
            )
        )

    async def retire(self, ids: Iterable[str], now: datetime) -> None:
        """Hides built-ins whose files are gone; automations made from them keep their copy."""
        await self._session.execute(
            update(TemplateRow)
            .where(TemplateRow.id.in_(list(ids)), TemplateRow.org_id.is_(None))
            .values(deleted_at=now)
        )

    async def forget_usage_before(self, day: date) -> None:
        """Drops daily usage older than ``day`` (retention: the totals on the template remain)."""
        await self._session.execute(delete(TemplateUsage).where(TemplateUsage.day < day))

    # --- reads -----------------------------------------------------------------------------

    async def get(self, org_id: str, template_id: str, *, for_update: bool = False) -> TemplateRow | None:
        query = self._visible(org_id).where(TemplateRow.id == template_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def visible(self, org_id: str) -> list[TemplateRow]:
        """Every template the organization sees (the built-ins and its own)."""
        return list((await self._session.scalars(self._visible(org_id).order_by(TemplateRow.id))).all())

    async def list_page(
        self, org_id: str, where: TemplateFilter, sort: str, *, offset: int, limit: int
    ) -> tuple[list[TemplateRow], int]:
        """Up to ``limit`` templates from ``offset`` in ``sort`` order (popular, rating, newest),
        and how many match in all. Ties break on id, so pages are stable."""
        query = self._visible(org_id)
        if where.category:
            query = query.where(TemplateRow.category == where.category)
        if where.subcategory:
            query = query.where(TemplateRow.subcategory == where.subcategory)
        if where.industry:
            query = query.where(TemplateRow.industry == where.industry)
        if where.difficulty:
            query = query.where(TemplateRow.difficulty == where.difficulty)
        if where.tag:
            query = query.where(TemplateRow.tags.contains([where.tag]))
        if where.integration:
            query = query.where(TemplateRow.integrations.contains([where.integration]))
        total = await self._session.scalar(select(func.count()).select_from(query.subquery()))
        average = TemplateRow.rating_sum / func.nullif(TemplateRow.rating_count, 0)
        orders: dict[str, list[ColumnElement[Any]]] = {
            "popular": [TemplateRow.usage_count.desc(), TemplateRow.view_count.desc()],
            "rating": [average.desc().nulls_last(), TemplateRow.rating_count.desc()],
            "newest": [TemplateRow.create_time.desc()],
        }
        order = orders[sort]
        rows = await self._session.scalars(query.order_by(*order, TemplateRow.id).offset(offset).limit(limit))
        return list(rows.all()), int(total or 0)

    async def search(
        self, org_id: str, text: str, category: str, limit: int
    ) -> list[tuple[TemplateRow, float]]:
        """Templates matching ``text``, best first, with their score.

        Each word is a prefix (``abandon:*``) and any word may match (``|``), so a longer
        query narrows the ranking rather than the hits; ``ts_rank_cd`` ranks by weight (name
        over tags over description) and how many words matched. ``word_similarity`` over the
        name and tags (``pg_trgm``) finds typos that match no word and adds to the score.
        """
        words = _WORD.findall(text.lower())
        if not words:
            return []
        query_text = " | ".join(f"{word}:*" for word in words)
        tsquery = func.to_tsquery("english", query_text)
        haystack = TemplateRow.name.op("||")(literal(" ")).op("||")(
            func.array_to_string(TemplateRow.tags, " ")
        )
        fuzzy = func.word_similarity(" ".join(words), func.lower(haystack))
        rank = func.ts_rank_cd(TemplateRow.search, tsquery, 1)
        score = (rank + fuzzy * 0.5).label("score")
        query = (
            self._visible(org_id)
            .add_columns(score)
            .where(or_(TemplateRow.search.op("@@")(tsquery), fuzzy >= TYPO_SIMILARITY))
            .order_by(score.desc(), TemplateRow.usage_count.desc(), TemplateRow.id)
            .limit(limit)
        )
        if category:
            query = query.where(TemplateRow.category == category)
        rows = await self._session.execute(query)
        return [(row[0], float(row[1])) for row in rows]

    async def counts(self, org_id: str) -> dict[tuple[str, str], int]:
        """How many visible templates each (category, subcategory) holds."""
        visible = or_(TemplateRow.org_id.is_(None), TemplateRow.org_id == org_id)
        rows = await self._session.execute(
            select(TemplateRow.category, TemplateRow.subcategory, func.count())
            .where(visible, TemplateRow.deleted_at.is_(None))
            .group_by(TemplateRow.category, TemplateRow.subcategory)
        )
        return {(row[0], row[1]): int(row[2]) for row in rows}

    async def most_used_since(self, org_id: str, since: date, limit: int) -> list[TemplateRow]:
        """The visible templates used most since ``since``, by every organization together."""
        used = (
            select(TemplateUsage.template_id, func.sum(TemplateUsage.uses).label("uses"))
            .where(TemplateUsage.day >= since)
            .group_by(TemplateUsage.template_id)
            .having(func.sum(TemplateUsage.uses) > 0)
            .subquery()
        )
        query = (
            self._visible(org_id)
            .join(used, used.c.template_id == TemplateRow.id)
            .order_by(used.c.uses.desc(), TemplateRow.id)
            .limit(limit)
        )
        return list((await self._session.scalars(query)).all())

    async def used_by(self, org_id: str) -> set[str]:
        """The templates the organization has made automations from (within the usage retention)."""
        rows = await self._session.scalars(
            select(TemplateUsage.template_id).where(TemplateUsage.org_id == org_id, TemplateUsage.uses > 0)
        )
        return set(rows.all())

    async def automation_triggers(self, org_id: str) -> set[str]:
        """The trigger types of the organization's live automations."""
        rows = await self._session.scalars(
            select(Automation.trigger_type)
            .where(Automation.org_id == org_id, Automation.deleted_at.is_(None))
            .distinct()
        )
        return set(rows.all())

    # --- writes ----------------------------------------------------------------------------

    async def add(self, row: TemplateRow) -> None:
        self._session.add(row)
        await self._session.flush()

    async def count_use(self, template_id: str, org_id: str, day: date, *, view: bool) -> None:
        """Adds one view (or one use) to the day's row of this organization and to the totals."""
        column = "views" if view else "uses"
        statement = insert(TemplateUsage).values(
            template_id=template_id, org_id=org_id, day=day, **{column: 1}
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[TemplateUsage.template_id, TemplateUsage.org_id, TemplateUsage.day],
                set_={column: getattr(TemplateUsage, column) + 1},
            )
        )
        total = TemplateRow.view_count if view else TemplateRow.usage_count
        await self._session.execute(
            update(TemplateRow).where(TemplateRow.id == template_id).values({total: total + 1})
        )

    async def rate(self, template: TemplateRow, org_id: str, rating: int, review: str, now: datetime) -> None:
        """Sets the organization's rating (replacing its previous one) and the template's sum and
        count; ``template`` must be locked by the caller."""
        previous = await self._session.get(TemplateRating, (template.id, org_id), with_for_update=True)
        if previous is None:
            self._session.add(
                TemplateRating(
                    template_id=template.id,
                    org_id=org_id,
                    rating=rating,
                    review=review,
                    create_time=now,
                    update_time=now,
                )
            )
            template.rating_count += 1
            template.rating_sum += rating
        else:
            template.rating_sum += rating - previous.rating
            previous.rating, previous.review, previous.update_time = rating, review, now
        await self._session.flush()
