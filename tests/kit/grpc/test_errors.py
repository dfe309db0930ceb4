"""kit.grpc.errors.require: the one check of required request fields every service uses."""

from __future__ import annotations

import pytest

from beez.kit.grpc.errors import FieldViolation, InvalidArgument, require


def test_require_passes_when_every_field_is_set() -> None:
    require(id="a_1", event=True)


def test_require_names_the_one_missing_field() -> None:
    with pytest.raises(InvalidArgument) as err:
        require(id="", type="email")
    assert err.value.message == "id is required"
    assert err.value.violations == [FieldViolation("id", "is required")]


def test_require_names_every_missing_field_at_once() -> None:
    with pytest.raises(InvalidArgument) as err:
        require(execution_id="", contact_id="", event=False)
    assert [v.field for v in err.value.violations] == ["execution_id", "contact_id", "event"]
    assert err.value.message == "missing required fields: execution_id, contact_id, event"
