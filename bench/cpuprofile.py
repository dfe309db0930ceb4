"""``python -m bench.cpuprofile OUT MODULE``: runs ``MODULE`` as ``__main__`` under cProfile, in CPU time.

cProfile's default clock is the wall clock, which in an asyncio service charges every await to
the coroutine waiting; with ``time.process_time`` a profile shows where the CPU goes. The
profile is written when the service exits (SIGTERM ends it normally).
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, module = sys.argv[1], sys.argv[2]
    sys.argv = [module, *sys.argv[3:]]
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
