"""Rotating the JWT signing key (`python -m yutang_dev keys rotate`) on a running stack: tokens of the old key keep
verifying, tokens of the new key verify once the members JWKS publishes it, tokens of any other key are refused.

The stack has keys of its own (rotating the session's keys would break the other end-to-end tests). Members runs
under a supervisor of its own, so it alone restarts after the rotation, as a deployment would roll it first: the
gateway and the other subgraphs still hold the old public key as their static key and learn the new one from the
JWKS on its first unknown `kid`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.stack import Stack
from tests.support import Tokens
from yutang_dev.keys import ensure_keys, rotate_jwt_key
from yutang_dev.stack import Ports, ProcessSpec, base_env, stack_specs
from yutang_dev.supervisor import Supervisor
from yutang_shared.auth import SIGNATURE_HEADER, Role, issue_token, private_key_id, sign_body

MEMBERS = "{ members(first: 1) { edges { node { id } } } }"
SERVICE = "{ _service { sdl } }"


@dataclass
class RotatedStack:
    """A stack whose key rotated after `old` was issued; `tokens` now signs with the new key."""

    stack: Stack
    tokens: Tokens
    old: str
    old_kid: str
    new_kid: str
    verifiers: list[ProcessSpec]
    data_dir: Path
    running: dict[str, Supervisor]

    def restart_verifiers(self) -> None:
        """Stop the gateway, loyalty and community and start them again (they read the keys on start)."""
        self.running.pop("verifiers").stop()
        self.running["verifiers"] = supervise(self.verifiers, self.data_dir, "verifiers-restarted")

    def jwks(self) -> list[str]:
        response = httpx.get(f"http://127.0.0.1:{self.stack.ports.gateway}/.well-known/jwks.json", timeout=30)
        return [key["kid"] for key in response.json()["keys"]]

    def loyalty(self, token: str) -> httpx.Response:
        """`_service` straight to the loyalty subgraph, signed as the gateway signs it: the subgraph's own check."""
        body = json.dumps({"query": SERVICE}).encode()
        headers = {
            "content-type": "application/json",
            "authorization": f"Bearer {token}",
            SIGNATURE_HEADER: sign_body(self.tokens.secret, body),
        }
        return httpx.post(self.stack.subgraph("loyalty"), content=body, headers=headers, timeout=30)


def passes(response: httpx.Response) -> bool:
    return response.status_code == 200 and "errors" not in response.json()


def supervise(specs: list[ProcessSpec], data_dir: Path, name: str) -> Supervisor:
    """Started and healthy; one run directory per supervisor, so each reaps only what it started."""
    supervisor = Supervisor(specs, data_dir=data_dir / name, out=(data_dir / f"{name}.log").open("w"))
    try:
        supervisor.start()
        supervisor.wait_healthy(timeout=120)
    except BaseException:
        supervisor.stop()
        raise
    return supervisor


@pytest.fixture(scope="module")
def rotated(database_url: str, engine: AsyncEngine) -> Iterator[RotatedStack]:
    data_dir = Path(tempfile.mkdtemp(prefix="yt-rot-", dir="/tmp"))
    keys = ensure_keys(data_dir)
    tokens = Tokens(data_dir / "keys")
    ports = Ports.free()
    env = base_env(data_dir=data_dir, keys=keys, database_url=database_url, source={})
    env["YUTANG_JWKS_MIN_REFRESH_SECONDS"] = "1"
    specs = {spec.name: spec for spec in stack_specs(env=env, ports=ports, with_prefect=False)}
    verifiers = [specs["loyalty"], specs["community"], specs["gateway"]]
    running: dict[str, Supervisor] = {}
    try:
        running["members"] = supervise([specs["members"]], data_dir, "members")
        running["verifiers"] = supervise(verifiers, data_dir, "verifiers")
        old = tokens.ops()
        rotation = rotate_jwt_key(data_dir)
        running.pop("members").stop()
        running["members"] = supervise([specs["members"]], data_dir, "members-rotated")
        yield RotatedStack(
            stack=Stack(ports=ports, logs=data_dir / "logs"),
            tokens=tokens,
            old=old,
            old_kid=rotation.previous_kid,
            new_kid=rotation.kid,
            verifiers=verifiers,
            data_dir=data_dir,
            running=running,
        )
    finally:
        for supervisor in running.values():
            supervisor.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def test_the_jwks_publishes_the_new_key_and_the_previous_one(rotated: RotatedStack) -> None:
    assert rotated.jwks() == [rotated.new_kid, rotated.old_kid]


def test_a_token_of_the_previous_key_still_verifies(rotated: RotatedStack) -> None:
    assert jwt.get_unverified_header(rotated.old)["kid"] == rotated.old_kid

    # the gateway and loyalty hold it as their static key; the restarted members finds it in its JWKS
    assert passes(rotated.stack.query(MEMBERS, token=rotated.old))
    assert passes(rotated.loyalty(rotated.old))


def test_a_token_of_the_new_key_verifies_once_the_jwks_has_it(rotated: RotatedStack) -> None:
    new = rotated.tokens.ops()
    assert jwt.get_unverified_header(new)["kid"] == rotated.new_kid

    # the gateway and loyalty started before the rotation: the new kid is unknown to them until they fetch the JWKS
    assert passes(rotated.stack.query(MEMBERS, token=new))
    assert passes(rotated.loyalty(new))


def test_a_token_of_an_unknown_key_is_refused(rotated: RotatedStack) -> None:
    stranger = rsa.generate_private_key(65537, 2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    token = issue_token(pem, subject="ops-test", role=Role.OPS)
    assert jwt.get_unverified_header(token)["kid"] == private_key_id(pem) not in rotated.jwks()

    through_gateway = rotated.stack.query(MEMBERS, token=token)
    direct = rotated.loyalty(token)

    assert through_gateway.status_code == 401
    assert through_gateway.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert direct.status_code == 401
    assert direct.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_verifiers_restarted_after_the_rotation_verify_the_previous_key_through_the_jwks(
    rotated: RotatedStack,
) -> None:
    # given: the gateway and loyalty restart, so the new key is their static key and the old one only in the JWKS
    rotated.restart_verifiers()

    assert passes(rotated.stack.query(MEMBERS, token=rotated.old))
    assert passes(rotated.loyalty(rotated.old))
    assert passes(rotated.stack.query(MEMBERS, token=rotated.tokens.ops()))
