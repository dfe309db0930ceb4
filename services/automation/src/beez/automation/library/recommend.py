"""Which templates fill the gaps in an organization's automations (ListTemplateRecommendations).

Each :data:`GAPS` entry is a job most organizations want automated, recognised by the trigger
types that do it. When none of the organization's live automations uses one of those types, and it
has made no automation from a template of the gap's subcategories, the templates of the gap's
subcategory are recommended with the gap's reason, ranked by the gap's weight less a tenth per
template already listed for that gap (so the gaps interleave), then by how much the template is
used. Templates the organization already made automations from are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Gap:
    """A job, the trigger types that do it, where templates for it are, and how much it matters."""

    reason: str
    triggers: frozenset[str]
    subcategories: frozenset[str]
    weight: float


GAPS: tuple[Gap, ...] = (
    Gap(
        "no welcome series for new contacts",
        frozenset({"contact_created", "list_joined"}),
        frozenset({"welcome_series"}),
        1.0,
    ),
    Gap("no cart recovery workflow", frozenset({"cart_abandoned"}), frozenset({"cart_recovery"}), 0.95),
    Gap(
        "no re-engagement workflow for inactive contacts",
        frozenset({"inactivity", "engagement_level"}),
        frozenset({"re_engagement", "win_back"}),
        0.9,
    ),
    Gap(
        "no follow-up after purchases",
        frozenset({"purchase_made", "payment_received"}),
        frozenset({"post_purchase", "order_confirmation", "review_request"}),
        0.85,
    ),
    Gap(
        "no lead scoring or qualification",
        frozenset({"score_changed", "score_threshold"}),
        frozenset({"lead_scoring"}),
        0.8,
    ),
    Gap("no routing of new form leads", frozenset({"form_submitted"}), frozenset({"lead_routing"}), 0.75),
    Gap(
        "no satisfaction survey after conversations",
        frozenset({"conversation_closed"}),
        frozenset({"csat", "resolution_follow_up"}),
        0.7,
    ),
    Gap("no birthday or anniversary campaign", frozenset({"anniversary"}), frozenset({"birthday"}), 0.6),
    Gap("no renewal reminders", frozenset({"countdown", "relative_date"}), frozenset({"renewal"}), 0.55),
    Gap(
        "no consent or list hygiene workflow",
        frozenset({"subscription_status_changed"}),
        frozenset({"compliance", "list_hygiene"}),
        0.4,
    ),
)


@dataclass(frozen=True)
class Candidate:
    id: str
    subcategory: str
    usage: int


def recommend(
    triggers: set[str], used: set[str], candidates: Iterable[Candidate], limit: int
) -> list[tuple[str, float, str]]:
    """The best ``limit`` (template id, score, reason) for an organization whose automations use
    ``triggers`` and which has used the templates ``used``."""
    candidates = list(candidates)
    pool = [c for c in candidates if c.id not in used]
    done = {c.subcategory for c in candidates if c.id in used}
    ranked: list[tuple[str, float, str]] = []
    seen: set[str] = set()
    for gap in GAPS:
        if gap.triggers & triggers or gap.subcategories & done:
            continue
        fits = sorted((c for c in pool if c.subcategory in gap.subcategories), key=lambda c: (-c.usage, c.id))
        for position, candidate in enumerate(fits):
            if candidate.id not in seen:
                seen.add(candidate.id)
                score = gap.weight - 0.1 * position + min(candidate.usage, 1000) / 100000
                ranked.append((candidate.id, round(score, 5), gap.reason))
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked[:limit]
