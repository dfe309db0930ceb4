"""Mutual TLS for gRPC: a throwaway certificate authority, and the credentials every hop uses.

A certificate names its holder in its subject common name (``CN=automation``); that name is
what :mod:`beez.kit.grpc.peers` checks against the allowed callers. The same certificate and
key serve a process as its server certificate and as its client certificate, so its subject
alternative names cover the host names clients dial: ``127.0.0.1``/``localhost`` for local
runs and the Kubernetes service names (``automation``, ``automation.<ns>.svc``, ...).

* :class:`Authority` / :func:`write_bundle`: a throwaway CA and per-holder certificates, written
  to a directory, for ``beez up``-like stacks, the tests and ``beez certs``. Production gets its
  certificates from its own PKI (cert-manager, Vault) as files.
* :class:`TlsFiles`: the three files a process is configured with (``BEEZ_TLS_CERT_FILE``,
  ``BEEZ_TLS_KEY_FILE``, ``BEEZ_TLS_CA_FILE``).
* :func:`server_credentials`: TLS with client certificates required, re-reading the files on a
  new connection once they change, so a rotated certificate is served without a restart.
* :func:`channel_credentials` / :func:`channel`: a client channel presenting the process's own
  certificate, or a plaintext one when no files are configured (local mode).
"""

from __future__ import annotations

import datetime
import ipaddress
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from beez.kit.logging import get_logger

log = get_logger(__name__)

CALLERS = ("gateway", "automation", "trigger", "executor", "beezora", "analytics")
"""The holders that may pass identity metadata by default: the gateway and the five services."""

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
VALIDITY = datetime.timedelta(days=30)


def service_hosts(name: str, namespaces: Sequence[str] = ("beez",)) -> list[str]:
    """The names clients dial ``name`` by: local addresses and its Kubernetes service DNS names."""
    hosts = [name, *LOCAL_HOSTS]
    for ns in namespaces:
        hosts += [f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"]
    return hosts


def _subject_alt_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM encoded."""

    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class Authority:
    """A certificate authority kept in memory; :meth:`issue` signs holder certificates."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str = "beez throwaway CA", validity: datetime.timedelta = VALIDITY) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self, holder: str, hosts: Iterable[str] | None = None, validity: datetime.timedelta = VALIDITY
    ) -> Issued:
        """A certificate naming ``holder`` (its CN), valid as server and client, for ``hosts``."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, holder)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(
                x509.SubjectAlternativeName(_subject_alt_names(hosts or service_hosts(holder))),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        return Issued(
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )


@dataclass(frozen=True)
class TlsFiles:
    """The certificate, key and CA bundle files of one holder."""

    cert_file: Path
    key_file: Path
    ca_file: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(certificate chain, private key, CA certificates), PEM encoded."""
        return self.cert_file.read_bytes(), self.key_file.read_bytes(), self.ca_file.read_bytes()

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever any of the files is replaced or rewritten."""
        stats = [p.stat() for p in (self.cert_file, self.key_file, self.ca_file)]
        return tuple(v for s in stats for v in (s.st_mtime_ns, s.st_size, s.st_ino))

    def env(self) -> dict[str, str]:
        """The ``BEEZ_TLS_*`` variables that configure a process with these files."""
        return {
            "BEEZ_TLS_CERT_FILE": str(self.cert_file),
            "BEEZ_TLS_KEY_FILE": str(self.key_file),
            "BEEZ_TLS_CA_FILE": str(self.ca_file),
        }


def write_issued(directory: Path, holder: str, issued: Issued, ca_file: Path) -> TlsFiles:
    """Writes ``holder``'s certificate and key (mode 0600) next to ``ca_file``."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / f"{holder}.pem", directory / f"{holder}-key.pem", ca_file)
    _write_atomically(files.key_file, issued.key_pem, 0o600)
    _write_atomically(files.cert_file, issued.cert_pem, 0o644)
    return files


def write_bundle(
    directory: Path,
    names: Iterable[str] = CALLERS,
    *,
    authority: Authority | None = None,
    hosts: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, TlsFiles]:
    """A throwaway CA (``ca.pem``) and a certificate and key per name in ``directory``.

    ``hosts`` overrides the host names of a holder's certificate (default :func:`service_hosts`).
    """
    authority = authority or Authority.create()
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.pem"
    _write_atomically(ca_file, authority.cert_pem, 0o644)
    return {
        name: write_issued(directory, name, authority.issue(name, (hosts or {}).get(name)), ca_file)
        for name in names
    }


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)


class _Reloader:
    """The certificate configuration fetcher: a new configuration when the files changed.

    gRPC calls it (from its own threads) on every new connection; it stats three files and
    returns None (keep the current configuration) unless they changed. A file missing mid-rotation
    keeps the current configuration; so does gRPC itself when the new files do not load (a key
    that does not match its certificate), and the next change is loaded as usual.
    """

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._stamp = files.stamp()
        self.initial = self._configuration()

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        cert, key, ca = self.files.read()
        return grpc.ssl_server_certificate_configuration([(key, cert)], root_certificates=ca)

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        with self._lock:
            try:
                stamp = self.files.stamp()
                if stamp == self._stamp:
                    return None
                config = self._configuration()
            except OSError as exc:
                log.warning("tls files unreadable; keeping the current certificate", error=repr(exc))
                return None
            self._stamp = stamp
        log.info("tls certificate reloaded", cert=str(self.files.cert_file))
        return config


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    """Server TLS requiring a client certificate signed by the CA, reloaded when the files change."""
    reloader = _Reloader(files)
    return grpc.dynamic_ssl_server_credentials(reloader.initial, reloader, require_client_authentication=True)


def channel_credentials(files: TlsFiles) -> grpc.ChannelCredentials:
    """Client TLS trusting the CA and presenting the holder's own certificate."""
    cert, key, ca = files.read()
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)


def channel(
    address: str,
    tls: TlsFiles | None,
    *,
    options: Sequence[tuple[str, Any]] | None = None,
    interceptors: Sequence[Any] | None = None,
) -> grpc.aio.Channel:
    """A channel to ``address``: mutual TLS with ``tls``, plaintext without (local mode only)."""
    if tls is None:
        return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)
    return grpc.aio.secure_channel(
        address, channel_credentials(tls), options=options, interceptors=interceptors
    )


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m beez.kit.tls DIR [NAME ...]``: writes a throwaway CA and certificates (default:
    the gateway and the five services) to DIR, for a local production-mode run."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m beez.kit.tls", description=main.__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("names", nargs="*", default=list(CALLERS))
    args = parser.parse_args(argv)
    for name, files in write_bundle(args.directory, args.names).items():
        print(name, " ".join(f"{k}={v}" for k, v in files.env().items()))


if __name__ == "__main__":
    main()
