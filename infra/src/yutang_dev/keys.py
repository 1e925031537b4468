"""Development keys under `$YUTANG_DATA_DIR/keys`: the JWT key pair, the gateway secret and the PII key.

Created once, never overwritten: a regenerated key would invalidate every token and encrypted mobile number.
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

__all__ = ["KeyPaths", "ensure_keys"]

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
        loaded = serialization.load_pem_private_key(paths.jwt_private.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{paths.jwt_private} is not an RSA private key")
        _create(paths.jwt_public, _public_pem(loaded), _PUBLIC_MODE)
        created.append(paths.jwt_public)
    return created


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
