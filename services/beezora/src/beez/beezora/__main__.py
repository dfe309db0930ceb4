"""``beez-beezora [serve|migrate]``: runs the beezora service or its migrations."""

from __future__ import annotations

from pathlib import Path

from beez.beezora.config import BeezoraSettings
from beez.beezora.server import build
from beez.kit import runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    runtime.main(BeezoraSettings, "beezora", MIGRATIONS, build)


if __name__ == "__main__":
    main()
