"""``beez-executor [serve|migrate]``: runs the executor service or its migrations."""

from __future__ import annotations

from pathlib import Path

from beez.executor.config import ExecutorSettings
from beez.executor.server import build
from beez.kit import runtime

MIGRATIONS = Path(__file__).parent / "migrations"


def main() -> None:
    runtime.main(ExecutorSettings, "executor", MIGRATIONS, build)


if __name__ == "__main__":
    main()
