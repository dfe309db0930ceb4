"""A workflow's skeleton: its trigger type and the sequence of its step types and branches.

Two templates with the same skeleton differ only in words and values; the library's rule
(decision 0048) allows that only when their subcategories differ and the later one says why
(``sameSkeletonAs``). The copy, delays, filters and configs are left out on purpose.
"""

from __future__ import annotations

from typing import Any


def _steps(actions: list[dict[str, Any]]) -> str:
    parts = []
    for action in actions:
        branches = action.get("branches") or []
        if branches:
            inner = ";".join(f"{b.get('name', '')}:[{_steps(b.get('actions') or [])}]" for b in branches)
            parts.append(f"{action['type']}({inner})")
        else:
            parts.append(str(action["type"]))
    return ",".join(parts)


def skeleton(workflow: dict[str, Any]) -> str:
    """``trigger|step,step(branch:[...];...),...`` for a workflow in the format's JSON."""
    trigger = (workflow.get("trigger") or {}).get("type", "")
    return f"{trigger}|{_steps(workflow.get('actions') or [])}"
