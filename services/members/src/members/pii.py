"""Personal data at rest: mobiles encrypted with Fernet and fingerprinted with a keyed hash for lookups."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet


class MobileVault:
    """Encrypts, reveals and fingerprints mobiles with one configured key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._fingerprint_key = hmac.new(key, b"yutang/mobile-fingerprint", hashlib.sha256).digest()

    def fingerprint(self, mobile: str) -> str:
        """A stable keyed hash: equal mobiles match without storing them in clear."""
        return hmac.new(self._fingerprint_key, mobile.encode(), hashlib.sha256).hexdigest()

    def seal(self, mobile: str) -> str:
        """The ciphertext stored in the database."""
        return self._fernet.encrypt(mobile.encode()).decode()

    def reveal(self, ciphertext: str) -> str:
        """The mobile in clear, for callers with personal-data rights."""
        return self._fernet.decrypt(ciphertext.encode()).decode()
