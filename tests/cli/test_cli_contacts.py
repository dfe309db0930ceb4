"""``beez contacts import|get`` and ``beez fields`` through a real local-mode gateway and trigger."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import beez, new_org


async def test_contacts_import_jsonl_and_csv_then_get_and_fields(local_gateway: str, tmp_path: Path) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    jsonl = tmp_path / "contacts.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(doc)
            for doc in [
                {"id": "c_1", "email": "ada@example.com", "tags": ["vip"], "fields": {"plan": "pro"}},
                {"id": "c_2", "email": "bob@example.com", "score": 12},
            ]
        )
        + "\n"
    )
    done = await beez("contacts", "import", str(jsonl), "--batch", "1", env=env)
    assert done.exit_code == 0, done.output
    assert "2 imported, 0 unchanged" in done.stdout

    table = tmp_path / "contacts.csv"
    table.write_text("id,email,tags,score,renewal_date,seats\nc_3,cy@example.com,a;b,40,2027-05-01,7\n")
    done = await beez("contacts", "import", str(table), env=env)
    assert done.exit_code == 0, done.output
    assert "1 imported" in done.stdout

    shown = await beez("contacts", "get", "c_3", "--json", env=env)
    assert shown.exit_code == 0, shown.output
    contact = json.loads(shown.stdout)["contact"]
    assert contact["contact"]["tags"] == ["a", "b"]
    assert contact["contact"]["score"] == 40
    assert contact["dates"] == {"renewal_date": "2027-05-01"}
    assert contact["contact"]["fields"]["seats"] == 7

    listed = await beez("fields", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    kinds = {entry["name"]: (entry["type"], entry["kind"]) for entry in json.loads(listed.stdout)["fields"]}
    assert kinds["plan"] == ("string", "FIELD_KIND_CUSTOM")
    assert kinds["renewal_date"] == ("date", "FIELD_KIND_CUSTOM")
    assert kinds["score"] == ("number", "FIELD_KIND_CONTACT")

    missing = await beez("contacts", "get", "c_3", env={**env, "BEEZ_ORG": new_org()})
    assert missing.exit_code == 1
    assert "NOT_FOUND" in missing.output


async def test_contacts_import_stops_at_a_bad_line(local_gateway: str, tmp_path: Path) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "c_1"}\nnot json\n')
    done = await beez("contacts", "import", str(bad), env=env)
    assert done.exit_code == 2  # a usage error, before any batch went out
    assert (await beez("contacts", "get", "c_1", env=env)).exit_code == 1
