"""The end-to-end benchmark (issue 4, part 2): ``python -m bench [--quick]`` or ``make bench``.

It starts the stack (embedded PostgreSQL and nats-server under ``.beez/bench/`` unless
``DATABASE_URL`` / ``NATS_URL`` are given), runs every service as a process, drives load and
writes ``bench/out/report.json`` and ``bench/out/report.md``. A benchmark, never a timed test:
nothing here asserts on speed.
"""
