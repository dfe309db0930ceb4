"""``beez-trigger [serve|migrate]``: runs the trigger service or its migrations."""

from __future__ import annotations

from pathlib import Path

from beez.kit import runtime
from beez.trigger.config import TriggerSettings
from beez.trigger.server import build

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    runtime.main(TriggerSettings, "trigger", MIGRATIONS, build)


if __name__ == "__main__":
    main()
