"""Who an organization may send email as: its verified senders (decision 0023).

``send_email``'s ``from`` must be one of them, checked when a workflow is saved
(:func:`sender_issues`) and again when the email is sent. Until connections exist they are
configuration: a map of organization id to entries, each an address (``hello@acme.com``) or a
whole domain (``@acme.com``), plus the deployment's default From address, which every
organization may use (it is what a step without ``from`` sends as). Matching ignores case and a
display name (``Acme <hello@acme.com>`` is ``hello@acme.com``). A ``from`` that is a template
could render to anything, so it is refused too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from beez.api.workflow.v1.workflow_pb2 import Action, Workflow
from beez.workflow.errors import Issue, join_path
from beez.workflow.model import struct_to_dict
from beez.workflow.recipients import parse_email

__all__ = ["SenderPolicy", "sender_issues"]

_TEMPLATE_MARKS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class SenderPolicy:
    """The verified senders of every organization, and the default From address all may use."""

    default_from: str = ""
    verified: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def allows(self, org_id: str, sender: str) -> bool:
        """Whether ``org_id`` may send as ``sender`` (an address, with or without a display name)."""
        address = parse_email(sender)
        if address is None:
            return False
        address = address.lower()
        default = parse_email(self.default_from) if self.default_from else None
        if default is not None and address == default.lower():
            return True
        domain = "@" + address.rpartition("@")[2]
        for entry in self.verified.get(org_id, ()):
            wanted = entry.strip().lower()
            if wanted == domain or (not wanted.startswith("@") and parse_email(wanted) == address):
                return True
        return False

    def describe(self, org_id: str) -> str:
        """The senders ``org_id`` may use, for an error message."""
        allowed = [*([self.default_from] if self.default_from else []), *self.verified.get(org_id, ())]
        return ", ".join(allowed) if allowed else "none are configured"


def sender_issues(workflow: Workflow, org_id: str, policy: SenderPolicy) -> list[Issue]:
    """A violation at ``….config.from`` for each ``send_email`` step whose sender ``org_id`` may not use."""
    issues: list[Issue] = []
    _walk(workflow.actions, "actions", org_id, policy, issues)
    return issues


def _walk(
    actions: Sequence[Action], path: str, org_id: str, policy: SenderPolicy, issues: list[Issue]
) -> None:
    for index, action in enumerate(actions):
        at = join_path(path, index)
        if action.type == "send_email":
            sender = struct_to_dict(action.config).get("from")
            if isinstance(sender, str) and sender.strip():
                if any(mark in sender for mark in _TEMPLATE_MARKS):
                    issues.append(Issue(f"{at}.config.from", "must be a verified sender, not a template"))
                elif not policy.allows(org_id, sender):
                    issues.append(
                        Issue(
                            f"{at}.config.from",
                            f"{sender.strip()!r} is not a verified sender of the organization "
                            f"(verified: {policy.describe(org_id)})",
                        )
                    )
        for b, branch in enumerate(action.branches):
            _walk(branch.actions, join_path(f"{at}.branches[{b}]", "actions"), org_id, policy, issues)
