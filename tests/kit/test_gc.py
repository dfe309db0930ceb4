"""A started service collects its young objects less often and never rescans its startup objects."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import gc
from beez.kit.runtime import configure_gc
from beez.kit.settings import ServiceSettings
threshold = ServiceSettings().gc_threshold
before = gc.get_threshold()
configure_gc(threshold)
print(before[0], gc.get_threshold()[0], gc.get_threshold()[1:] == before[1:], gc.get_freeze_count() > 0)
configure_gc(0)
print(gc.get_threshold()[0])
"""


def test_a_started_service_tunes_and_freezes_the_collector() -> None:
    # in a process of its own: the collector's settings are global to the process
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["700", "10000", "True", "True", "10000"]  # 0 leaves the threshold as it is
