"""Masking personal data (emails, phone numbers) in free text, in one linear pass.

One compiled pattern walks the text once. At each place it tries, in order: an email; a token to
keep whole (an ISO date or timestamp, a clock time, a UUID); a phone-number candidate; any other
word. Whatever matched is consumed, so nothing inside a timestamp, a UUID or a word is ever
looked at again as the start of a phone number (``2026-12-02T17:40:39.126534+00:00`` stays as it
is), and no alternative can backtrack over more than the run it started on: every repetition is
possessive and the email and phone alternatives only start where a run of their characters
starts. The cost is linear in the length of the text.

A phone-number candidate's groups of digits never run on into a date, a time, an id or a word
after a separator (``+2348012345678 2026-12-02`` is a number, then a date). It is masked only
when it has 8 to 15 digits (E.164's most) and ends where a word ends; anything else (an
amount, a long reference, ``1234abc``) is left alone. Text longer
than :data:`MAX_MASKED_CHARS` is cut before it is masked, so a huge value costs a bounded time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_MASKED_CHARS = 100_000
"""Characters of one string that are masked and kept; the rest is cut (the render output cap)."""

TRUNCATED = "…[truncated]"

_PATTERN = re.compile(
    r"""
    (?P<email>
        (?<![A-Za-z0-9._%+-])
        (?P<first>[A-Za-z0-9])[A-Za-z0-9._%+-]*+
        @(?P<domain>(?:[A-Za-z0-9-]++\.)+[A-Za-z]{2,}+)
        (?![A-Za-z0-9-])
    )
  | (?P<keep>
        \d{4}-\d{2}-\d{2}
        (?:[T\x20]\d{2}:\d{2}(?::\d{2}(?:[.,]\d++)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?
      | \d{1,2}:\d{2}(?::\d{2}(?:[.,]\d++)?)?
      | [0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}
    )
  | (?P<phone>
        (?<![\w+-])(?<!\d[.,:])
        \+?\(?\d++
        (?:[\x20\t()-]{1,2}+(?!\d{4}-\d{2}-|\d{1,2}:\d{2}|[0-9A-Fa-f]{8}-)\d++(?![A-Za-z_]))*+
        (?P<tail>[\w-]*+)
    )
  | \w++
    """,
    re.VERBOSE,
)

_MIN_PHONE_DIGITS = 8
_MAX_PHONE_DIGITS = 15


def mask_text(text: str, limit: int = MAX_MASKED_CHARS) -> str:
    """``text`` with emails (``a***@example.com``) and phone numbers (``+234****6789``) masked.

    Text past ``limit`` characters is cut first (ending in ``…[truncated]``).
    """
    if len(text) > limit:
        text = text[:limit] + TRUNCATED
    return _PATTERN.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    if match.group("email") is not None:
        return f"{match.group('first')}***@{match.group('domain')}"
    whole = match.group(0)
    if match.group("phone") is None or match.group("tail"):
        return whole
    digits = "".join(c for c in whole if c.isdigit())
    if not _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
        return whole
    lead = "+" if whole.startswith("+") else ""
    return f"{lead}{digits[:3]}****{digits[-4:]}"


def mask_value(value: Any) -> Any:
    """Masks PII inside strings, mappings and sequences, leaving other values alone."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value
