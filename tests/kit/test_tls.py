"""beez.kit.tls: the throwaway CA's certificates, and the TLS settings production requires."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from beez.kit.settings import ServiceSettings, load_settings
from beez.kit.tls import CALLERS, main, write_bundle


def test_a_certificate_names_its_holder_and_the_hosts_clients_dial(tmp_path: Path) -> None:
    files = write_bundle(tmp_path, ["automation"])["automation"]
    cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "automation"
    cert.verify_directly_issued_by(ca)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"automation", "localhost", "automation.beez.svc.cluster.local"} <= set(
        sans.get_values_for_type(x509.DNSName)
    )
    assert "127.0.0.1" in {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(usages)
    assert files.key_file.stat().st_mode & 0o077 == 0


def test_the_bundle_holds_one_ca_and_a_certificate_per_name(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path, CALLERS)
    assert sorted(bundle) == sorted(CALLERS)
    assert {f.ca_file for f in bundle.values()} == {tmp_path / "ca.pem"}
    assert bundle["gateway"].env()["BEEZ_TLS_CERT_FILE"] == str(tmp_path / "gateway.pem")


def test_production_without_certificates_refuses_to_start_naming_the_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEEZ_LOCAL_MODE", "false")
    for name in ("BEEZ_TLS_CERT_FILE", "BEEZ_TLS_KEY_FILE", "BEEZ_TLS_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_settings(ServiceSettings)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for name in ("BEEZ_TLS_CERT_FILE", "BEEZ_TLS_KEY_FILE", "BEEZ_TLS_CA_FILE", "BEEZ_LOCAL_MODE"):
        assert name in err


def test_a_missing_certificate_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_bundle(tmp_path, ["trigger"])["trigger"]
    for name, value in files.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BEEZ_TLS_KEY_FILE", str(tmp_path / "nope.pem"))
    with pytest.raises(ValueError, match="BEEZ_TLS_KEY_FILE"):
        ServiceSettings(local_mode=False)


def test_production_with_certificates_and_local_mode_without_them_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_bundle(tmp_path, ["trigger"])["trigger"]
    for name, value in files.env().items():
        monkeypatch.setenv(name, value)
    assert ServiceSettings(local_mode=False).tls_files() == files
    for name in files.env():
        monkeypatch.delenv(name)
    assert ServiceSettings(local_mode=True).tls_files() is None


def test_allowed_callers_default_to_the_gateway_and_the_services_and_take_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServiceSettings(local_mode=True).allowed_callers() == frozenset(CALLERS)
    monkeypatch.setenv("BEEZ_TLS_ALLOWED_CALLERS", "gateway, crm-sync ,")
    assert ServiceSettings(local_mode=True).allowed_callers() == {"gateway", "crm-sync"}


def test_python_m_beez_kit_tls_writes_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([str(tmp_path), "gateway", "crm-sync"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ca.pem",
        "crm-sync-key.pem",
        "crm-sync.pem",
        "gateway-key.pem",
        "gateway.pem",
    ]
    assert f"BEEZ_TLS_CERT_FILE={tmp_path / 'crm-sync.pem'}" in capsys.readouterr().out
