"""``enrich_contact``: the CRM's "Enrich contact data (external API)", a ``call_api`` preset.

It sends what ``call_api`` sends (``url``, ``method`` GET, ``headers``, ``body``, ``timeout_s``,
an optional token ``connection`` towards that provider's base URL only; signed, SSRF-guarded),
then maps fields of the JSON answer into the contact: ``mapping`` names, per contact custom
field, a dotted path into the answer (``person.employment.title``, ``emails.0``). Each field
found becomes an ``update_field`` platform command (key ``<step key>:field:<name>``, so the
contacts module applies each once) and a change of the execution's own contact snapshot
(``contact_changes.fields``), as ``update_field`` does; a path the answer lacks changes nothing
and is listed in ``output.missing``. An answer that is not a JSON object fails the step
(``invalid_response``): nothing would be mapped.

Idempotency: the lookup is a read; the field updates are keyed commands, so a repeat after a
crash sets the same values once more (no duplicate effect).
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.executor.actions.crm import platform_command
from beez.executor.actions.integration import CallApi
from beez.executor.actions.outgoing import safe_url

__all__ = ["EnrichContact", "pick"]

_MISSING = object()


def pick(answer: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``answer`` (list items by index), or ``_MISSING``."""
    value = answer
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _field_name(name: str) -> str:
    for prefix in ("contact.fields.", "fields."):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class EnrichContact(CallApi):
    """``enrich_contact``: ``call_api``'s ``url``, ``method``, ``headers``, ``body``, ``timeout_s``,
    ``connection``, plus ``mapping`` (contact field → path in the answer).

    Output: ``status_code``, ``url``, ``enriched`` (the fields set), ``missing`` (paths not in
    the answer). Contact changes: ``fields``. Commands: one ``update_field`` per field set.
    """

    type = "enrich_contact"

    async def run(self, ctx: ActionContext) -> ActionResult:
        mapping = ctx.config.get("mapping")
        if not isinstance(mapping, dict) or not mapping:
            raise PermanentError("`mapping` must name at least one field", category="invalid_config")
        platform_command(ctx)  # no contact: fail before calling out
        response, _ = await self.send(ctx)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise PermanentError(
                "the enrichment API did not answer with a JSON object", category="invalid_response"
            )
        fields: dict[str, Any] = {}
        missing: list[str] = []
        for name, path in mapping.items():
            value = pick(answer, str(path))
            if value is _MISSING:
                missing.append(str(path))
            else:
                fields[_field_name(str(name))] = json.loads(json.dumps(value, default=str))
        commands = []
        for name, value in fields.items():
            cmd = platform_command(ctx)
            cmd.idempotency_key = f"{ctx.idempotency_key}:field:{name}"
            cmd.update_field.field = name
            json_format.ParseDict(value, cmd.update_field.value)
            commands.append(cmd)
        return ActionResult(
            output={
                "status_code": response.status_code,
                "url": safe_url(response.url),
                "enriched": sorted(fields),
                "missing": missing,
            },
            contact_changes={"fields": fields} if fields else {},
            commands=commands,
        )
