"""An RPC's REST bindings, read from its ``google.api.http`` annotation.

The gateway serves these bindings (it builds its route table from them) and the ``beez`` CLI
calls them, so both read the annotation here: the rule, each binding (the rule itself, then its
``additional_bindings``), and each binding's HTTP method and path template.
"""

from __future__ import annotations

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import MethodDescriptor

__all__ = ["bindings", "http_rule", "method_and_path"]


def http_rule(method: MethodDescriptor) -> http_pb2.HttpRule | None:
    """The method's ``google.api.http`` option, or None when it has none."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return None
    rule: http_pb2.HttpRule = options.Extensions[annotations_pb2.http]
    return rule


def bindings(rule: http_pb2.HttpRule) -> list[http_pb2.HttpRule]:
    """The rule's bindings in declaration order: the rule itself, then its additional bindings."""
    return [rule, *rule.additional_bindings]


def method_and_path(binding: http_pb2.HttpRule) -> tuple[str, str] | None:
    """The binding's upper-case HTTP method and its path template, or None when it names neither."""
    kind = binding.WhichOneof("pattern")
    if kind is None:
        return None
    if kind == "custom":
        return binding.custom.kind.upper(), binding.custom.path
    return kind.upper(), str(getattr(binding, kind))
