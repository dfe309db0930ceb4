"""The samples of workflow-format.md, shared by the tests: the onboarding automation and Ada."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ONBOARDING: dict[str, Any] = json.loads((EXAMPLES / "onboarding.json").read_text())
"""The onboarding automation of workflow-format.md, verbatim (examples/onboarding.json)."""

ADA: dict[str, Any] = json.loads((EXAMPLES / "list-joined-event.json").read_text())["contact"]
"""The sample event's contact: c_123, consent for email and WhatsApp, not SMS."""
