"""Which organization a message belongs to: its subject says so, and its body must agree.

Every per-organization subject has the organization as the token after its root
(``events.<org>.<type>``, ``jobs.<priority>.<org>``, ``executions.<org>.<event>``, ...). NATS
permissions decide who may publish on a subject, so the subject is the part a publisher cannot
choose freely; a body (or ``Beez-Org-Id`` header) naming another organization is a forgery or a
bug, and the message is refused with a :class:`~beez.kit.bus.worker.PermanentError`, which the
worker dead-letters at once with the reason and without running anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from google.protobuf.message import DecodeError

from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged
from beez.kit.bus.headers import ORG_ID
from beez.kit.bus.topology import Topology
from beez.kit.bus.worker import PermanentError

ORG_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What an organization token on a subject may look like."""


def subject_parts(topology: Topology, root: str, subject: str) -> tuple[str, str]:
    """``(org, rest)`` of ``<prefix>.<root>.<org>.<rest>``; PermanentError for any other subject.

    ``root`` may span tokens (``jobs.critical``): the organization is the token after it.
    """
    base = topology.subject(f"{root}.")
    if not subject.startswith(base):
        raise PermanentError(f"subject {subject!r} is not under {base!r}")
    org, _, rest = subject[len(base) :].partition(".")
    if not ORG_PATTERN.match(org):
        raise PermanentError(f"subject {subject!r} does not name a valid organization")
    return org, rest


def same_org(subject_org: str, body_org: str, what: str) -> str:
    """``subject_org``, once ``body_org`` (when given) names the same organization."""
    if body_org and body_org != subject_org:
        raise PermanentError(f"{what} of organization {body_org!r} published under {subject_org!r}")
    return subject_org


def message_org(
    subject_org: str, body_org: str, headers: Mapping[str, str] | None, what: str, *, required: bool = False
) -> str:
    """The organization of a message published under ``subject_org``.

    The body's organization and the ``Beez-Org-Id`` header, each when set, must name the same
    one; ``required`` refuses a body that names none (a job, which always names its own).
    """
    if required and not body_org:
        raise PermanentError(f"{what} names no organization")
    same_org(subject_org, body_org, what)
    return same_org(subject_org, (headers or {}).get(ORG_ID, ""), f"{what} (header {ORG_ID})")


def automation_change(
    topology: Topology, subject: str, data: bytes, headers: Mapping[str, str] | None
) -> tuple[str, AutomationChanged]:
    """The organization and the :class:`AutomationChanged` of an ``automations.<org>.changed``
    message, or :class:`PermanentError` when it does not decode or names another organization.

    The trigger and the executor consume the same announcements; both read them through here."""
    org, _ = subject_parts(topology, "automations", subject)
    try:
        change = AutomationChanged.FromString(data)
    except DecodeError as exc:
        raise PermanentError(f"undecodable AutomationChanged: {exc}") from exc
    return message_org(org, change.organization_id, headers, "automation change"), change
