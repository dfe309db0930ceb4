"""The actions an executor runs: the built-in registry, plus any ``action_plugins``.

A plugin is named ``package.module:name``; ``name`` is a mapping of action type to
:class:`~beez.executor.actions.base.Action`, or a callable taking the executor's settings and
returning one. Plugins are applied in order and win over the built-in actions of the same type.
The test suite uses this seam to run test-only actions (a recording provider, a flaky one) in a
real executor; nothing else about the engine changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, cast

from beez.executor.actions.base import Action
from beez.executor.config import ExecutorSettings


def load_plugin(spec: str, settings: ExecutorSettings) -> Mapping[str, Action]:
    """The actions one ``package.module:name`` plugin provides.

    Raises:
        ValueError: for a malformed spec, or a name that is neither a mapping nor a callable.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"action plugin {spec!r} must look like 'package.module:name'")
    target: Any = getattr(importlib.import_module(module_name), attribute)
    if callable(target) and not isinstance(target, Mapping):
        target = cast(Callable[[ExecutorSettings], Any], target)(settings)
    if not isinstance(target, Mapping):
        raise ValueError(f"action plugin {spec!r} gave {type(target).__name__}, not a mapping of actions")
    return cast(Mapping[str, Action], target)


def plugin_actions(settings: ExecutorSettings) -> dict[str, Action]:
    """The actions of every plugin in ``settings.action_plugins``, later ones winning."""
    actions: dict[str, Action] = {}
    for spec in settings.action_plugins:
        actions.update(load_plugin(spec, settings))
    return actions
