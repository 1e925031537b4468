"""Development keys: created once with the right formats and permissions, never overwritten."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from yutang_dev.keys import KeyPaths, ensure_keys


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
