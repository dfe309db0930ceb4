"""The digest of a workflow version: what the automation service announces and the executor checks.

A version is immutable, so its content has one digest: the SHA-256 (hex) of the workflow's
deterministic protobuf serialization (fields in number order, map entries sorted). The
automation service puts it on ``AutomationChanged.workflow_digest``; the executor computes it
again from the workflow a START job carries and runs the job only when the two agree
(docs/decisions/0018). The executor also stores workflow versions under this digest.

Both sides must hold the same ``Workflow`` schema: a field one side does not know is kept as an
unknown field and serialized after the known ones, which changes the bytes. Deploy the executor
before (or with) an automation service that adds a workflow field.
"""

from __future__ import annotations

import hashlib

from beez.api.workflow.v1.workflow_pb2 import Workflow


def workflow_bytes(workflow: Workflow) -> bytes:
    """The canonical bytes of ``workflow``: its deterministic protobuf serialization."""
    return workflow.SerializeToString(deterministic=True)


def digest_of(definition: bytes) -> str:
    """The digest of canonical bytes from :func:`workflow_bytes`."""
    return hashlib.sha256(definition).hexdigest()


def workflow_digest(workflow: Workflow) -> str:
    """The digest of ``workflow``: ``sha256(workflow_bytes(workflow))`` in hex."""
    return digest_of(workflow_bytes(workflow))
