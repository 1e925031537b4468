"""`python -m yutang_dev token`: tokens that verify with the public key; clear errors on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from yutang_dev.cli import main
from yutang_dev.keys import ensure_keys
from yutang_shared.auth import Role, verify_token


@pytest.fixture
def data_dir(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("YUTANG_DATA_DIR", str(short_dir))
    monkeypatch.delenv("YUTANG_JWT_PRIVATE_KEY_FILE", raising=False)
    monkeypatch.delenv("YUTANG_JWT_ISSUER", raising=False)
    monkeypatch.delenv("YUTANG_JWT_AUDIENCE", raising=False)
    return short_dir


def _token(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["token", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return out.strip()


def _public_key(data_dir: Path) -> str:
    return ensure_keys(data_dir).jwt_public.read_text()


def test_ops_token_round_trip(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(capsys, "--role", "ops")

    principal = verify_token(token, _public_key(data_dir))

    assert principal.role is Role.OPS
    assert principal.subject == "ops-dev"


def test_member_token_names_the_member(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    member_id = str(uuid.uuid4())

    principal = verify_token(_token(capsys, "--role", "member", "--member", member_id), _public_key(data_dir))

    assert principal.role is Role.MEMBER
    assert principal.is_member(member_id)


def test_partner_token_carries_its_scopes(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(capsys, "--role", "partner", "--subject", "acme", "--scopes", "points:read,members:read")

    principal = verify_token(token, _public_key(data_dir))

    assert principal.subject == "acme"
    assert principal.scopes == {"points:read", "members:read"}


def test_staff_token_carries_stores_regions_and_staff_roles(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(
        capsys, "--role", "staff", "--stores", "S1, S2", "--regions", "R1", "--staff-roles", "guide,store_manager"
    )

    principal = verify_token(token, _public_key(data_dir))

    assert principal.role is Role.STAFF
    assert principal.stores == {"S1", "S2"}
    assert principal.regions == {"R1"}
    assert set(principal.staff_roles) == {"guide", "store_manager"}


def test_staff_token_defaults_to_a_guide_of_no_store(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    principal = verify_token(_token(capsys, "--role", "staff"), _public_key(data_dir))

    assert set(principal.staff_roles) == {"guide"}
    assert not principal.stores
    assert not principal.regions


def test_partner_token_carries_its_allowed_stores(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(capsys, "--role", "partner", "--scopes", "members:read", "--stores", "S1")

    assert verify_token(token, _public_key(data_dir)).stores == {"S1"}


def test_ttl_hours_sets_expiry(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jwt

    token = _token(capsys, "--role", "service", "--scopes", "groups:read", "--ttl-hours", "2")

    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 7200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "wizard"], "unknown role"),
        (["--role", "member"], "needs --member"),
        (["--role", "member", "--member", "not-a-uuid"], "must be a UUID"),
        (["--role", "partner"], "needs --scopes"),
        (["--role", "ops", "--scopes", "points:read,points:steal"], "unknown scope"),
        (["--role", "staff", "--member", str(uuid.UUID(int=1))], "only applies to role member"),
        (["--role", "ops", "--ttl-hours", "0"], "positive"),
        (["--role", "staff", "--staff-roles", "guide,wizard"], "unknown staff role"),
        (["--role", "staff", "--stores", "S 1"], "is not a code"),
        (["--role", "ops", "--stores", "S1"], "only applies to roles staff and partner"),
        (["--role", "partner", "--scopes", "members:read", "--regions", "R1"], "only apply to role staff"),
    ],
)
def test_bad_requests_fail_with_a_message(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["token", *args]) != 0

    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_cli_entry_point_prints_only_the_token(data_dir: Path) -> None:
    env = {**os.environ, "YUTANG_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "yutang_dev", "token", "--role", "staff"], capture_output=True, text=True, env=env
    )

    assert done.returncode == 0, done.stderr
    principal = verify_token(done.stdout.strip(), _public_key(data_dir))
    assert principal.role is Role.STAFF

    bad = subprocess.run(
        [sys.executable, "-m", "yutang_dev", "token", "--role", "member"], capture_output=True, text=True, env=env
    )
    assert bad.returncode != 0
    assert "needs --member" in bad.stderr
