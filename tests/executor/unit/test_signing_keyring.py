"""The key ring that encrypts webhook signing secrets: parsing, rotation of its keys, refusals."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import ValidationError

from beez.executor.config import ExecutorSettings
from beez.kit.keyring import KeyRing, KeyRingError
from beez.kit.tls import write_bundle

OLD, NEW = (
    base64.urlsafe_b64encode(bytes([seed]) * 32).decode() for seed in (1, 2)
)  # fixed: test ids use them


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    before = KeyRing.parse(f"old:{OLD}")
    key_id, token = before.encrypt("whsec_1")
    assert key_id == "old"
    after = KeyRing.parse(f"# rotated\nnew:{NEW}\n\nold:{OLD}\n")
    assert after.primary == "new"
    assert after.decrypt(token) == "whsec_1"
    rewrapped = after.rewrap(token)
    assert KeyRing.parse(f"new:{NEW}").decrypt(rewrapped) == "whsec_1"  # the old key can go now


def test_a_secret_whose_key_left_the_ring_is_refused_clearly() -> None:
    _, token = KeyRing.parse(f"old:{OLD}").encrypt("whsec_1")
    with pytest.raises(KeyRingError, match="not in the ring"):
        KeyRing.parse(f"new:{NEW}").decrypt(token)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "holds no key"),
        (f"{OLD}", "expected '<key id>:<Fernet key>'"),
        ("k1:not-a-fernet-key-but-secret-material", "is not a Fernet key"),
        (f"k1:{OLD}\nk1:{NEW}", "appears twice"),
    ],
)
def test_a_bad_ring_is_refused_without_echoing_a_key(text: str, reason: str) -> None:
    with pytest.raises(KeyRingError, match=reason) as refused:
        KeyRing.parse(text)
    assert OLD not in str(refused.value) and "secret-material" not in str(refused.value)


def test_the_ring_is_read_from_its_file(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"k1:{OLD}\n")
    assert KeyRing.load(str(path)).primary == "k1"
    with pytest.raises(KeyRingError, match="BEEZ_SIGNING_KEYS_FILE: cannot read"):
        KeyRing.load(str(tmp_path / "missing"))


def test_production_refuses_to_start_without_a_key_ring(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in write_bundle(tmp_path, ["executor"])["executor"].env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BEEZ_LOCAL_MODE", "false")
    monkeypatch.setenv("BEEZ_DATABASE_ALLOW_INSECURE", "true")
    monkeypatch.delenv("BEEZ_SIGNING_KEYS_FILE", raising=False)
    with pytest.raises(ValidationError, match="key ring that encrypts the webhook signing secrets"):
        ExecutorSettings()
    monkeypatch.setenv("BEEZ_SIGNING_KEYS_FILE", "/run/secrets/signing-keys")
    assert ExecutorSettings().signing_keys_file == "/run/secrets/signing-keys"
    monkeypatch.setenv("BEEZ_LOCAL_MODE", "true")
    monkeypatch.delenv("BEEZ_SIGNING_KEYS_FILE")
    assert KeyRing.load(ExecutorSettings().signing_keys_file).primary == "local-dev"
