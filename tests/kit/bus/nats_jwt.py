"""Decentralized NATS auth for a test: an operator, an account and a user, as ``nsc`` makes them.

A ``.creds`` file is a user JWT (signed by its account's nkey) plus the user's nkey seed; the
server trusts the operator and knows the account's JWT. These build the three JWTs (NATS JWT v2:
ed25519-nkey signatures) with the ``nkeys`` library nats-py itself uses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

NO_LIMITS = {"subs": -1, "data": -1, "payload": -1}


def keypair(prefix: int) -> tuple[nkeys.KeyPair, bytes]:
    """A new nkey pair of the kind ``prefix`` names, and its seed."""
    seed = nkeys.encode_seed(os.urandom(32), prefix)
    return nkeys.from_seed(bytearray(seed)), bytes(seed)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(issuer: nkeys.KeyPair, subject: str, name: str, nats: dict[str, Any]) -> str:
    claims: dict[str, Any] = {
        "iat": int(time.time()),
        "iss": issuer.public_key.decode(),
        "name": name,
        "sub": subject,
        "nats": {**nats, "version": 2},
    }
    claims["jti"] = (
        base64.b32encode(hashlib.sha256(json.dumps(claims).encode()).digest()).decode().rstrip("=")
    )
    header = _b64(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = issuer.sign(f"{header}.{body}".encode())
    return f"{header}.{body}.{_b64(signature)}"


@dataclass(frozen=True)
class Decentralized:
    """The server's part (``resolver`` config) and a user's ``.creds`` file."""

    server_config: str
    creds_file: Path


def decentralized(directory: Path, user_name: str = "trigger") -> Decentralized:
    operator, _ = keypair(nkeys.PREFIX_BYTE_OPERATOR)
    account, _ = keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    user, user_seed = keypair(nkeys.PREFIX_BYTE_USER)
    operator_jwt = jwt(operator, operator.public_key.decode(), "beez-test", {"type": "operator"})
    account_pub = account.public_key.decode()
    account_jwt = jwt(
        operator,
        account_pub,
        "beez",
        {
            "type": "account",
            "limits": {**NO_LIMITS, "imports": -1, "exports": -1, "wildcards": True, "conn": -1, "leaf": -1},
            "default_permissions": {"pub": {}, "sub": {}},
        },
    )
    system, _ = keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    system_pub = system.public_key.decode()
    system_jwt = jwt(operator, system_pub, "SYS", {"type": "account", "limits": {**NO_LIMITS, "conn": -1}})
    user_jwt = jwt(
        account, user.public_key.decode(), user_name, {"type": "user", "pub": {}, "sub": {}, **NO_LIMITS}
    )
    creds = directory / f"{user_name}.creds"
    creds.touch(mode=0o600)
    creds.write_text(
        "-----BEGIN NATS USER JWT-----\n"
        f"{user_jwt}\n"
        "------END NATS USER JWT------\n\n"
        "-----BEGIN USER NKEY SEED-----\n"
        f"{user_seed.decode()}\n"
        "------END USER NKEY SEED------\n"
    )
    config = (
        f'operator: "{operator_jwt}"\nsystem_account: "{system_pub}"\nresolver: MEMORY\n'
        f'resolver_preload: {{\n  {account_pub}: "{account_jwt}"\n  {system_pub}: "{system_jwt}"\n}}\n'
    )
    return Decentralized(config, creds)
