"""``beez-analytics [serve|migrate]``: runs the analytics service or its migrations."""

from __future__ import annotations

from pathlib import Path

from beez.analytics.config import AnalyticsSettings
from beez.analytics.server import build
from beez.kit import runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    runtime.main(AnalyticsSettings, "analytics", MIGRATIONS, build)


if __name__ == "__main__":
    main()
