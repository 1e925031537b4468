"""Pure rules of identity: secrets and their hashes, client ids, scopes a client may hold."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost: 2**14 × 8 × 128 bytes = 16 MiB and ~50 ms per check; a leaked table cannot be brute-forced cheaply.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MAX_NAME = 200
MAX_STORES = 100


def new_client_id() -> str:
    """A public client identifier, e.g. `cli_3f9a0c1d2b4e5f60`."""
    return f"cli_{secrets.token_hex(8)}"


def new_secret() -> str:
    """A client secret or refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """A slow, salted hash of a client secret: `scrypt$n$r$p$salt$hash`."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return "$".join(("scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)))


def check_secret(secret: str, stored: str) -> bool:
    """True when `secret` hashes to `stored` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


def token_hash(token: str) -> str:
    """The SHA-256 of a refresh token or login ticket: random 256-bit values need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
