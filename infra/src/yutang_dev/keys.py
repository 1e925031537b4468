"""Development keys under `$YUTANG_DATA_DIR/keys`: the JWT key pair, the gateway secret and the PII key.

Created once, never overwritten: a regenerated key would invalidate every token and encrypted mobile number. The
JWT key changes only through `rotate_jwt_key` (`python -m yutang_dev keys rotate`), which keeps the replaced public
key as `jwt-previous-public.pem`, published in the members JWKS until `drop_previous_jwt_key`.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from yutang_shared.auth import public_key_id

__all__ = ["KeyPaths", "KeyRotationError", "Rotation", "drop_previous_jwt_key", "ensure_keys", "rotate_jwt_key"]

log = logging.getLogger(__name__)

_PRIVATE_MODE = 0o600
_PUBLIC_MODE = 0o644


@dataclass(frozen=True, slots=True)
class KeyPaths:
    """Where each development key lives."""

    jwt_private: Path
    jwt_public: Path
    gateway_secret: Path
    pii_key: Path

    @classmethod
    def under(cls, data_dir: Path) -> KeyPaths:
        """The conventional locations under `data_dir/keys` (see docs/architecture.md)."""
        keys = data_dir / "keys"
        return cls(keys / "jwt-private.pem", keys / "jwt-public.pem", keys / "gateway-secret", keys / "pii-key")

    @property
    def jwt_previous_public(self) -> Path:
        """The public key the last rotation replaced (members reads it: `MEMBERS_JWT_PREVIOUS_PUBLIC_KEY_FILE`)."""
        return self.jwt_private.parent / "jwt-previous-public.pem"


def ensure_keys(data_dir: Path) -> KeyPaths:
    """Create whichever keys are missing under `data_dir/keys` and return their paths; idempotent."""
    paths = KeyPaths.under(data_dir.resolve())
    paths.jwt_private.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    created = [
        *_ensure_jwt_pair(paths),
        *_ensure(paths.gateway_secret, lambda: secrets.token_hex(32).encode()),
        *_ensure(paths.pii_key, Fernet.generate_key),
    ]
    for path in (paths.jwt_private, paths.gateway_secret, paths.pii_key):
        path.chmod(_PRIVATE_MODE)
    paths.jwt_public.chmod(_PUBLIC_MODE)
    if created:
        log.info("created %s in %s", ", ".join(p.name for p in created), paths.jwt_private.parent)
    return paths


def _ensure(path: Path, make: Callable[[], bytes]) -> list[Path]:
    """Create `path` with fresh content unless it exists; the paths created."""
    if path.exists():
        return []
    return [path] if _create(path, make(), _PRIVATE_MODE) else []


def _ensure_jwt_pair(paths: KeyPaths) -> list[Path]:
    """A new private key when missing; the public key always derived from the private key on disk."""
    created = _ensure(paths.jwt_private, lambda: _private_pem(rsa.generate_private_key(65537, 2048)))
    if not paths.jwt_public.exists():
        _create(paths.jwt_public, _public_pem(_load_private(paths.jwt_private)), _PUBLIC_MODE)
        created.append(paths.jwt_public)
    return created


class KeyRotationError(RuntimeError):
    """The JWT key cannot rotate now (a previous key is still published)."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """The `kid` of the key that signed until now (now published as previous) and of the new signing key."""

    previous_kid: str
    kid: str


def rotate_jwt_key(data_dir: Path, *, force: bool = False) -> Rotation:
    """Make a new JWT signing key; the current public key becomes the previous one (still in the JWKS).

    Refuses (KeyRotationError) while an earlier previous key is still there, unless `force`: dropping it would
    make the tokens it signed fail before they expire. Each file is replaced atomically; the previous key is
    written first, so the JWKS never lacks a key that signed live tokens."""
    paths = ensure_keys(data_dir)
    if paths.jwt_previous_public.exists() and not force:
        raise KeyRotationError(
            f"{paths.jwt_previous_public.name} (kid {_kid(paths.jwt_previous_public.read_text())}) is still "
            "published: once the tokens it signed have expired, run `keys drop-previous` (or rotate with --force)"
        )
    current = _load_private(paths.jwt_private)
    new = rsa.generate_private_key(65537, 2048)
    _replace(paths.jwt_previous_public, _public_pem(current), _PUBLIC_MODE)
    _replace(paths.jwt_private, _private_pem(new), _PRIVATE_MODE)
    _replace(paths.jwt_public, _public_pem(new), _PUBLIC_MODE)
    rotation = Rotation(previous_kid=_kid(_public_pem(current).decode()), kid=_kid(_public_pem(new).decode()))
    log.info("new JWT signing key %s; the previous key %s stays in the JWKS", rotation.kid, rotation.previous_kid)
    return rotation


def drop_previous_jwt_key(data_dir: Path) -> str | None:
    """Stop publishing the previous public key (after the longest token lifetime); its `kid`, None if none."""
    path = KeyPaths.under(data_dir.resolve()).jwt_previous_public
    try:
        kid = _kid(path.read_text())
    except FileNotFoundError:
        return None
    path.unlink()
    log.info("dropped the previous JWT key %s", kid)
    return kid


def _kid(public_pem: str) -> str:
    return public_key_id(public_pem)


def _load_private(path: Path) -> rsa.RSAPrivateKey:
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return loaded


def _replace(path: Path, content: bytes, mode: int) -> None:
    """Write `path` atomically with `mode` from the start, replacing what was there."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def _create(path: Path, content: bytes, mode: int) -> bool:
    """Create `path` atomically with `mode` from the start; False when another process created it first.

    The content is written to a temporary file and hard-linked into place, so a key is never half-written,
    never briefly world-readable and never overwritten.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)
    return True
