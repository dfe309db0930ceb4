"""``beez-automation [serve|migrate]``: runs the automation service or its migrations."""

from __future__ import annotations

from pathlib import Path

from beez.automation.config import AutomationSettings
from beez.automation.server import build
from beez.kit import runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    runtime.main(AutomationSettings, "automation", MIGRATIONS, build)


if __name__ == "__main__":
    main()
