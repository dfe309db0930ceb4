"""How alike two templates are: the documented score behind ListSimilarTemplates.

``score = 0.30·[same category] + 0.25·[same trigger type] + 0.25·J(action types) + 0.20·J(words)``

where ``J`` is the Jaccard overlap of two sets: the step types each workflow uses anywhere
(branches included), and the words of each one's name and tags. A template is never similar to
itself; ties go to the more used. The reason names the strongest parts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WEIGHTS = {"category": 0.30, "trigger": 0.25, "actions": 0.25, "words": 0.20}
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"a", "an", "and", "the", "to", "of", "for", "on", "in", "with", "after", "from"})


@dataclass(frozen=True)
class Profile:
    """What the score compares, taken from one template."""

    id: str
    category: str
    trigger: str
    actions: frozenset[str]
    words: frozenset[str]


def _types(actions: Iterable[Mapping[str, Any]]) -> set[str]:
    found: set[str] = set()
    for action in actions:
        found.add(str(action.get("type", "")))
        for branch in action.get("branches") or []:
            found |= _types(branch.get("actions") or [])
    return found


def profile(
    template_id: str, category: str, name: str, tags: Iterable[str], workflow: Mapping[str, Any]
) -> Profile:
    words = {w for w in _WORD.findall(" ".join([name, *tags]).lower()) if w not in _STOP}
    return Profile(
        template_id,
        category,
        str((workflow.get("trigger") or {}).get("type", "")),
        frozenset(_types(workflow.get("actions") or [])),
        frozenset(words),
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def similarity(a: Profile, b: Profile) -> tuple[float, str]:
    """The score of ``b`` for ``a`` (0 to 1) and why."""
    parts = {
        "category": WEIGHTS["category"] * (a.category == b.category),
        "trigger": WEIGHTS["trigger"] * (a.trigger == b.trigger),
        "actions": WEIGHTS["actions"] * _jaccard(a.actions, b.actions),
        "words": WEIGHTS["words"] * _jaccard(a.words, b.words),
    }
    labels = {
        "category": f"same category ({b.category})",
        "trigger": f"same trigger ({b.trigger})",
        "actions": "shares steps: " + ", ".join(sorted(a.actions & b.actions)),
        "words": "shares words: " + ", ".join(sorted(a.words & b.words)),
    }
    strongest = [labels[key] for key, value in sorted(parts.items(), key=lambda kv: -kv[1]) if value > 0][:2]
    return round(sum(parts.values()), 4), "; ".join(strongest)


def most_similar(target: Profile, others: Iterable[Profile], limit: int) -> list[tuple[str, float, str]]:
    """The ``limit`` best (id, score, reason) for ``target``, best first, itself left out."""
    scored = [(other.id, *similarity(target, other)) for other in others if other.id != target.id]
    scored = [item for item in scored if item[1] > 0]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:limit]
