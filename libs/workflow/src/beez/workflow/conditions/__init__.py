"""Conditions compiled to CEL, and evaluated against a contact/event/vars/execution context.

Every condition list becomes ONE CEL program, whose source can be shown to people
(:attr:`CompiledCondition.source`). The forms of a condition:

- a comparison ``{field, operator, value, logic}``: ``logic`` ("AND", the default, or "OR")
  joins it to the condition before it, and AND binds tighter than OR, as in most languages:
  ``a, OR b, AND c`` means ``a || (b && c)``. The first condition's ``logic`` is ignored;
- groups ``{"all": [...]}`` (every one holds), ``{"any": [...]}`` (at least one holds) and
  ``{"not": {...}}``; inside ``all``/``any`` the group decides, so members' ``logic`` is ignored;
- raw CEL ``{"expression": "contact.score > 80 && 'vip' in contact.tags"}``, used as is.

Semantics of comparisons, decided here:

- a comparison on a missing field (or on a value of the wrong type, e.g. ``greater_than`` on a
  text) is false, never an error. This holds for the negative operators too (``not_equals``,
  ``not_contains``, ``not_in_list`` need the field present); ``is_empty`` is the one operator
  that is true for a missing field, and ``is_not_empty`` is its exact negation;
- numbers are compared as doubles: every number in the context and every literal is
  converted, so ``contact.score > 80`` holds for a score of ``81`` and of ``80.5``. Raw CEL
  compares ints with doubles fine, but arithmetic needs doubles: ``contact.score + 1.0``;
- times (``before``, ``after``, ``between`` with timestamps, ``within_last``) accept RFC 3339
  timestamps and ``YYYY-MM-DD`` dates, a date meaning midnight UTC; ``within_last`` is relative
  to the ``now`` given to :meth:`CompiledCondition.evaluate` and excludes the future;
- tags are matched exactly (case-sensitive); ``has_*`` operators read ``contact.tags`` unless
  a field is given;
- regular expressions use CEL's (RE2) syntax and match anywhere unless anchored.

Fields are dotted snake_case paths under ``contact``, ``event``, ``vars`` and ``execution``; a
segment that is not a CEL identifier is indexed (``contact.fields["plan type"]``).
"""

from __future__ import annotations

from beez.workflow.conditions.program import CompiledCondition, compile_conditions, normalise
from beez.workflow.conditions.translate import CONTACT_FIELDS, EVENT_FIELDS, ROOTS, condition_issues, to_cel

__all__ = [
    "CONTACT_FIELDS",
    "EVENT_FIELDS",
    "ROOTS",
    "CompiledCondition",
    "compile_conditions",
    "condition_issues",
    "normalise",
    "to_cel",
]
