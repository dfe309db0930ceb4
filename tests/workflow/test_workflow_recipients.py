"""Consent and recipients of communication steps: who a message goes to, or why it does not go."""

from __future__ import annotations

from typing import Any

import pytest

from beez.workflow.recipients import (
    Delivery,
    InvalidRecipient,
    Skip,
    consent_skip,
    contact_id,
    delivery,
    email_recipient,
    parse_email,
    phone_recipient,
)


def ada(**changes: Any) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "id": "c_ada",
        "email": "ada@example.com",
        "phone": "+2348012345678",
        "consent": {"email": True, "sms": False, "whatsapp": True},
    }
    contact.update(changes)
    return contact


def test_consent_comes_first_whatever_to_says() -> None:
    assert consent_skip(ada(), "email") is None
    assert consent_skip(ada(), "sms") == Skip("no sms consent", "sms")
    assert consent_skip({}, "whatsapp") == Skip("no whatsapp consent", "whatsapp")
    assert delivery("send_sms", {"to": "+2348099999999"}, ada()).skip == Skip("no sms consent", "sms")
    assert Skip("no sms consent", "sms").output == {"channel": "sms"}


def test_email_goes_to_to_else_the_contact() -> None:
    assert email_recipient({}, ada()) == ("ada@example.com", "ada@example.com")
    assert email_recipient({"to": " Sales <sales@example.com> "}, ada()) == (
        "Sales <sales@example.com>",
        "sales@example.com",
    )
    assert email_recipient({}, ada(email="")) == Skip("contact has no email address", "email")
    assert parse_email("a@b") is None and parse_email("x\n@example.com") is None


def test_a_malformed_email_fails_naming_where_it_came_from() -> None:
    with pytest.raises(InvalidRecipient) as given:
        email_recipient({"to": ""}, ada())
    assert str(given.value) == "`to` is not an email address: ''"
    with pytest.raises(InvalidRecipient) as own:
        email_recipient({}, ada(email="ada at home"))
    assert own.value.category == "invalid_recipient"
    assert own.value.describe(lambda text: "***") == "the contact's email is not an email address: '***'"


def test_phone_numbers_are_normalised_to_e164_or_refused() -> None:
    assert phone_recipient({}, ada(), "sms") == "+2348012345678"
    assert phone_recipient({"to": "00 44 20-7946-0958"}, ada(), "sms") == "+442079460958"
    assert phone_recipient({"to": "(234) 801.234.5678"}, ada(), "sms") == "+2348012345678"
    assert phone_recipient({}, ada(phone=""), "whatsapp") == Skip("contact has no phone number", "whatsapp")
    with pytest.raises(InvalidRecipient, match="the contact's phone is not an international phone number"):
        phone_recipient({}, ada(phone="08012345678"), "sms")
    with pytest.raises(InvalidRecipient, match="`to` is not"):
        phone_recipient({"to": "call me"}, ada(), "whatsapp")


def test_delivery_of_each_channel() -> None:
    assert delivery("send_email", {"to": "Ada <ada@example.com>"}, ada()) == Delivery(
        "email", "ada@example.com", header="Ada <ada@example.com>"
    )
    assert delivery("send_whatsapp", {}, ada()) == Delivery("whatsapp", "+2348012345678")
    assert delivery("send_slack", {"text": "hi"}, {}) == Delivery(None)
    with pytest.raises(InvalidRecipient):
        delivery("send_email", {"to": "nobody"}, ada())


def test_the_contact_id_falls_back_to_the_event() -> None:
    assert contact_id(ada(), {}) == "c_ada"
    assert contact_id({}, {"contact_id": "c_evt"}) == "c_evt"
    assert contact_id({}, {}) == ""
