"""Development keys: created once with the right formats and permissions, never overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from yutang_dev.keys import KeyPaths, KeyRotationError, drop_previous_jwt_key, ensure_keys, rotate_jwt_key
from yutang_shared.auth import private_key_id, public_key_id


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_keys_creates_every_key_with_tight_permissions(short_dir: Path) -> None:
    paths = ensure_keys(short_dir)

    assert paths == KeyPaths.under(short_dir)
    assert _mode(paths.jwt_private) == 0o600
    assert _mode(paths.gateway_secret) == 0o600
    assert _mode(paths.pii_key) == 0o600
    assert _mode(paths.jwt_public) == 0o644
    private = serialization.load_pem_private_key(paths.jwt_private.read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.key_size == 2048
    public = serialization.load_pem_public_key(paths.jwt_public.read_bytes())
    assert public.public_numbers() == private.public_key().public_numbers()  # type: ignore[union-attr]
    secret = paths.gateway_secret.read_text()
    assert len(secret) == 64
    int(secret, 16)
    Fernet(paths.pii_key.read_bytes())


def test_ensure_keys_is_idempotent(short_dir: Path) -> None:
    first = ensure_keys(short_dir)
    contents = {path: path.read_bytes() for path in _all(first)}

    second = ensure_keys(short_dir)

    assert second == first
    assert {path: path.read_bytes() for path in _all(second)} == contents


def test_missing_public_key_is_derived_from_the_existing_private_key(short_dir: Path) -> None:
    paths = ensure_keys(short_dir)
    public = paths.jwt_public.read_bytes()
    private = paths.jwt_private.read_bytes()
    paths.jwt_public.unlink()

    ensure_keys(short_dir)

    assert paths.jwt_private.read_bytes() == private
    assert paths.jwt_public.read_bytes() == public


def test_loose_permissions_are_tightened(short_dir: Path) -> None:
    paths = ensure_keys(short_dir)
    paths.jwt_private.chmod(0o644)

    ensure_keys(short_dir)

    assert _mode(paths.jwt_private) == 0o600


def _all(paths: KeyPaths) -> list[Path]:
    return [paths.jwt_private, paths.jwt_public, paths.gateway_secret, paths.pii_key]


def test_rotating_keeps_the_old_public_key_as_previous_and_signs_with_a_new_key(short_dir: Path) -> None:
    paths = ensure_keys(short_dir)
    old_public, old_private = paths.jwt_public.read_text(), paths.jwt_private.read_text()

    rotation = rotate_jwt_key(short_dir)

    assert paths.jwt_previous_public.read_text() == old_public
    assert paths.jwt_private.read_text() != old_private
    assert rotation.previous_kid == public_key_id(old_public)
    assert rotation.kid == private_key_id(paths.jwt_private.read_text()) == public_key_id(paths.jwt_public.read_text())
    assert (_mode(paths.jwt_private), _mode(paths.jwt_public), _mode(paths.jwt_previous_public)) == (
        0o600,
        0o644,
        0o644,
    )
    assert ensure_keys(short_dir) == paths  # and ensure_keys leaves the rotated keys alone
    assert private_key_id(paths.jwt_private.read_text()) == rotation.kid


def test_rotating_again_waits_for_the_previous_key_to_be_dropped(short_dir: Path) -> None:
    first = rotate_jwt_key(short_dir)

    with pytest.raises(KeyRotationError, match=first.previous_kid):
        rotate_jwt_key(short_dir)
    dropped = drop_previous_jwt_key(short_dir)
    second = rotate_jwt_key(short_dir)

    assert dropped == first.previous_kid
    assert second.previous_kid == first.kid
    assert drop_previous_jwt_key(short_dir) == first.kid
    assert drop_previous_jwt_key(short_dir) is None
    assert rotate_jwt_key(short_dir, force=False).previous_kid == second.kid


def test_forced_rotation_replaces_the_previous_key(short_dir: Path) -> None:
    first = rotate_jwt_key(short_dir)

    second = rotate_jwt_key(short_dir, force=True)

    assert second.previous_kid == first.kid
    assert public_key_id(KeyPaths.under(short_dir).jwt_previous_public.read_text()) == first.kid
