"""Asana ``POST /api/1.0/tasks``: Bearer token, the task wrapped in ``data``.

A task needs a workspace, a project or a parent; an unknown project gid is ``400 {"errors":
[{"message": "projects: [0]: Not a recognized ID: <gid>", "help"}]}``; 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, require

TOKEN = "asana-personal-access-token-secret-8"
PROJECTS = {"1200000000000001"}
HELP = "For more information on API status codes and how to handle them, read the docs on errors."


class Asana(ProviderStandIn):
    prefix = "asana"

    def __init__(self) -> None:
        super().__init__()
        self.tasks: list[dict[str, Any]] = []

    probe: tuple[str, str] = ("GET", "/api/1.0/users/me")

    def authorized(self, seen: Seen) -> bool:
        return seen.headers.get("Authorization") == f"Bearer {TOKEN}"

    def check(self, seen: Seen) -> web.Response | None:
        require((seen.method, seen.path) == ("POST", "/api/1.0/tasks"), "POST /api/1.0/tasks")
        if seen.headers.get("Authorization") != f"Bearer {TOKEN}":
            return answer(401, {"errors": [{"message": "Not Authorized", "help": HELP}]})
        body = seen.json()
        require(isinstance(body, dict) and isinstance(body.get("data"), dict), "the task wrapped in data")
        task = body["data"]
        require(
            bool(task.get("workspace") or task.get("projects") or task.get("parent")),
            "a workspace, project or parent",
        )
        require(isinstance(task.get("projects", []), list), "projects is a list of gids")
        return None

    async def respond(self, seen: Seen) -> web.Response:
        task = seen.json()["data"]
        for index, gid in enumerate(task.get("projects", [])):
            if gid not in PROJECTS:
                return answer(
                    400,
                    {
                        "errors": [
                            {"message": f"projects: [{index}]: Not a recognized ID: {gid}", "help": HELP}
                        ]
                    },
                )
        gid = str(1300000000000000 + len(self.tasks) + 1)
        self.tasks.append({"gid": gid, **task})
        return answer(
            201,
            {
                "data": {
                    "gid": gid,
                    "resource_type": "task",
                    "name": task.get("name"),
                    "permalink_url": f"https://app.asana.com/0/0/{gid}",
                }
            },
        )

    def effects(self) -> int:
        return len(self.tasks)
