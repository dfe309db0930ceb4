"""``beez up`` from nothing: embedded servers, migrations, every component healthy, nothing left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from beez.kit.embedded import free_port
from beez.kit.stack import SERVICES


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def processes_using(path: Path) -> list[psutil.Process]:
    """Processes whose command line mentions ``path`` (embedded servers keep their data there)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(path) in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def test_beez_up_starts_everything_healthy_and_stops_without_leftovers(tmp_path: Path, pg_dir: Path) -> None:
    grpc_base = free_port()
    while any(not _free(grpc_base + i) for i in range(5)):
        grpc_base = free_port()
    http_port = free_port()
    # Nothing configured, not even the suite's BEEZ_LOCAL_MODE (tests/conftest.py): `beez up`
    # itself turns local mode on, which the X-Org-Id calls of drive_the_stack need.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "NATS_URL", "BEEZ_DATABASE_URL", "BEEZ_NATS_URL", "BEEZ_LOCAL_MODE")
    }
    state = pg_dir.parent / "state"
    log = (tmp_path / "up.log").open("wb")
    cmd = [
        sys.executable,
        "-m",
        "beez.cli.main",
        "up",
        "--grpc-base",
        str(grpc_base),
        "--http-port",
        str(http_port),
        "--state-dir",
        str(state),
    ]
    up = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        status_cmd = [
            sys.executable,
            "-m",
            "beez.cli.main",
            "status",
            "--grpc-base",
            str(grpc_base),
            "--http-port",
            str(http_port),
        ]
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline:
            assert up.poll() is None, (tmp_path / "up.log").read_text()
            status = subprocess.run(status_cmd, env=env, capture_output=True, text=True, check=False)
            if status.returncode == 0:
                break
            time.sleep(0.5)
        assert status is not None and status.returncode == 0, status.stdout if status else ""
        for name in (*SERVICES, "gateway"):
            assert name in status.stdout
        assert "UNREACHABLE" not in status.stdout and "NOT_SERVING" not in status.stdout
        drive_the_stack(env, http_port)
        children = descendants(up.pid)
        assert len(children) >= 8  # five services, the gateway, postgres (and its workers), nats
        assert (state / "postgres" / "PG_VERSION").exists()
        assert (state / "nats" / "js").exists()

        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0, (tmp_path / "up.log").read_text()
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"left behind: {alive}"
        assert processes_using(state) == []
        summary = (tmp_path / "up.log").read_text()
        assert "is up" in summary and "stopped" in summary
    finally:
        if up.poll() is None:
            up.kill()
        for child in descendants(up.pid):
            child.kill()
        log.close()


ROOT = Path(__file__).resolve().parents[2]
ADA = {
    "id": "c_cli",
    "email": "ada@example.com",
    "firstName": "Ada",
    "consent": {"email": True, "whatsapp": True},
}


def drive_the_stack(env: dict[str, str], http_port: int) -> None:
    """What the README shows: the CLI and curl against the stack `beez up` started."""

    def beez(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "beez.cli.main", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    scope = ["--org", "org_cli", "--api-url", f"http://127.0.0.1:{http_port}"]
    assert "valid" in beez("automations", *scope, "validate", "-f", "examples/onboarding.json")
    created = re.search(
        r"created (\S+)", beez("automations", *scope, "create", "-f", "examples/onboarding.json")
    )
    assert created is not None
    automation_id = created.group(1)
    executions: list[dict[str, object]] = []
    for attempt in range(40):  # the trigger indexes the new automation within milliseconds
        beez(
            "events",
            *scope,
            "publish",
            "--type",
            "list.joined",
            "--id",
            f"evt_cli_{attempt}",
            "--contact",
            "c_cli",
            "--data",
            '{"list": "New Customers"}',
            "--contact-json",
            json.dumps(ADA),
        )
        listing = json.loads(beez("executions", *scope, "list", "--automation", automation_id, "--json"))
        executions = listing.get("executions", [])
        if executions:
            break
        time.sleep(0.2)
    assert len(executions) == 1
    shown = beez("executions", *scope, "show", str(executions[0]["id"]))
    assert "send_email" in shown

    api = f"http://127.0.0.1:{http_port}/api/automations"
    headers = {"X-Org-Id": "org_cli"}
    workflow = json.loads((ROOT / "examples" / "onboarding.json").read_text())
    made = httpx.post(api, json=workflow, headers=headers, timeout=10)  # active unless ?active=false
    assert made.status_code == 200, made.text
    assert made.json()["automation"]["active"] is True
    rest_id = made.json()["automation"]["id"]
    assert httpx.get(f"{api}/{rest_id}", headers=headers, timeout=10).json()["automation"]["version"] == 1
    history = httpx.get(f"{api}/{automation_id}/executions", headers=headers, timeout=10).json()
    assert [e["id"] for e in history["executions"]] == [executions[0]["id"]]
    assert httpx.get(f"{api}/{rest_id}", timeout=10).status_code == 401


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
