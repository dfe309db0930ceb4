"""Every shell command in README.md works as written against a stack ``beez up`` started.

The stack is what ``make run`` starts on a fresh clone: ``beez up`` in local mode on the default
ports, with an embedded PostgreSQL and nats-server. The commands run in the repository's root,
in order, with the ``export`` lines before them, under a ``PATH`` without ``uv`` or ``beez`` (a
machine whose Python comes from pyenv has no shim for either), so a command that relies on them
fails here as it would for a new user. Only the ``<automation-id>`` and ``<execution-id>``
placeholders are filled in, with the ids the earlier commands produced.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from beez.cli.components import components
from beez.cli.health import check_all
from beez.kit.embedded import port_open

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Commands that start the stack, run the suite, or run for many minutes: the stack below stands
# in for `make run`, and the others are the suite itself or have suites of their own.
NOT_RUN = frozenset({"make run", "make test", "make chaos", "make bench"})
PLACEHOLDERS = ("<automation-id>", "<execution-id>")


def readme_commands(text: str) -> list[str]:
    """The commands of every ```sh block, continuation lines joined, comment-only lines dropped."""
    commands: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        pending = ""
        for line in block.splitlines():
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1].rstrip() + " "
                continue
            command = (pending + line.strip()).strip()
            pending = ""
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def without_comment(command: str) -> str:
    return command.split("#", 1)[0].strip()


def test_readme_commands_are_found_and_only_the_known_ones_are_left_out() -> None:
    commands = readme_commands(README.read_text())
    assert {without_comment(c) for c in commands} >= NOT_RUN
    assert len([c for c in commands if without_comment(c) not in NOT_RUN]) >= 10
    assert readme_commands("```sh\na \\\n  b  # c\n# d\n\n```\n") == ["a b  # c"]


def fresh_machine_env() -> dict[str, str]:
    """This environment, less the virtualenv and any ``PATH`` entry that holds ``uv`` or ``beez``."""
    path = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not any((Path(entry) / tool).exists() for tool in ("uv", "beez"))
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "DATABASE_URL", "NATS_URL", "BEEZ_DATABASE_URL", "BEEZ_NATS_URL")
        and not k.startswith("BEEZ_")
    }
    env["PATH"] = os.pathsep.join(path)
    return env


@pytest.fixture
def stack(tmp_path: Path, pg_dir: Path) -> Iterator[None]:
    """``beez up`` on the default ports, as ``make run`` starts it, until every part is healthy."""
    parts = components()
    taken = [c.address for c in parts if port_open("127.0.0.1", c.port)]
    assert not taken, f"the README's ports are in use ({taken}): stop `make run` or `beez up` first"
    log_path = tmp_path / "up.log"
    cmd = [sys.executable, "-m", "beez.cli.main", "up", "--state-dir", str(pg_dir.parent / "state")]
    with log_path.open("wb") as log:
        up = subprocess.Popen(cmd, env=fresh_machine_env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not all(h.healthy for h in asyncio.run(check_all(parts))):
            assert up.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        yield
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(60)
        except subprocess.TimeoutExpired:
            up.kill()


class Shell:
    """Runs commands the way a reader pastes them, one after another in the repository's root."""

    def __init__(self) -> None:
        self.env = fresh_machine_env()
        self.exports: list[str] = []

    def run(self, command: str) -> str:
        script = "\n".join([*self.exports, command])
        done = subprocess.run(
            ["bash", "-c", script], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert not is_error_body(done.stdout), f"{command}\n{done.stdout}"
        if command.startswith("export "):
            self.exports.append(command)
        return done.stdout


def is_error_body(output: str) -> bool:
    """Whether ``output`` is a google.rpc.Status, the gateway's error answer."""
    try:
        body = json.loads(output)
    except ValueError:
        return False
    return isinstance(body, dict) and {"code", "message"} <= body.keys()


def wait_for_execution(shell: Shell, automation_id: str) -> str:
    """The id of the first execution of ``automation_id``, once the engine has started one."""
    cli = f'"{sys.executable}" -m beez.cli.main'
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listing = json.loads(shell.run(f"{cli} executions list --automation {automation_id} --json"))
        if listing.get("executions"):
            return str(listing["executions"][0]["id"])
        time.sleep(0.3)
    raise AssertionError(f"no execution of {automation_id} started")


@pytest.mark.timeout(480)  # ~150 s on an idle machine; it grows with the README
def test_every_readme_command_works_as_written_against_a_running_stack(stack: None) -> None:
    shell = Shell()
    ids: dict[str, str] = {}
    ran = 0
    for command in readme_commands(README.read_text()):
        if without_comment(command) in NOT_RUN:
            continue
        if "<execution-id>" in command and "<execution-id>" not in ids:
            ids["<execution-id>"] = wait_for_execution(shell, ids["<automation-id>"])
        for placeholder in PLACEHOLDERS:
            if placeholder in command:
                assert placeholder in ids, f"{command}: no earlier command gave {placeholder}"
                command = command.replace(placeholder, ids[placeholder])
        output = shell.run(command)
        ran += 1
        if "automations create" in command:
            created = re.search(r"created (\S+)", output)
            assert created is not None, output
            ids.setdefault("<automation-id>", created.group(1))
            time.sleep(1)  # a reader takes longer than the trigger does to index the new automation
    assert ran >= 10
    assert set(ids) == set(PLACEHOLDERS)
