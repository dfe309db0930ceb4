"""Per-process CPU time and RSS, sampled in the background, split into the run's phases."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil


@dataclass
class Sampler:
    """Samples ``source()`` (processes by group) every ``interval`` seconds.

    CPU per group is the sum over every process ever seen of its last sampled CPU time, so
    PostgreSQL backends that come and go between samples lose at most one interval of CPU.
    """

    source: Callable[[], dict[str, list[psutil.Process]]]
    interval: float = 0.5
    cpu_seen: dict[tuple[str, int], float] = field(default_factory=dict)
    peak_rss: dict[str, int] = field(default_factory=dict)
    marks: dict[str, tuple[float, dict[str, float]]] = field(default_factory=dict)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)
    phase_wall: dict[str, float] = field(default_factory=dict)
    counter: Callable[[], int] = lambda: 0
    """Executions completed so far; each phase records how many completed during it."""
    completed: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for group, procs in self.source().items():
            rss = 0
            for proc in procs:
                try:
                    with proc.oneshot():
                        times = proc.cpu_times()
                        self.cpu_seen[(group, proc.pid)] = times.user + times.system
                        rss += proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.peak_rss[group] = max(self.peak_rss.get(group, 0), rss)

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (group, _), cpu in self.cpu_seen.items():
            out[group] = out.get(group, 0.0) + cpu
        return out

    @staticmethod
    def machine_busy() -> float:
        """CPU seconds the whole machine spent busy so far (every process, ours or not)."""
        cpu = psutil.cpu_times()
        return float(
            cpu.user + cpu.nice + cpu.system + getattr(cpu, "irq", 0.0) + getattr(cpu, "softirq", 0.0)
        )

    def begin(self, phase: str) -> None:
        self.sample()
        self.marks[phase] = (
            time.monotonic(),
            {**self.totals(), "_machine": self.machine_busy(), "_done": float(self.counter())},
        )

    def end(self, phase: str) -> None:
        self.sample()
        started, before = self.marks.pop(phase)
        after = self.totals()
        self.completed[phase] = self.counter() - int(before["_done"])
        spent = {g: after[g] - before.get(g, 0.0) for g in after}
        spent["other"] = max(0.0, self.machine_busy() - before["_machine"] - sum(spent.values()))
        self.phases[phase] = {g: round(v, 2) for g, v in spent.items()}
        self.phase_wall[phase] = round(time.monotonic() - started, 2)

    async def _loop(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
