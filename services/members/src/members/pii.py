"""Personal data at rest: mobiles encrypted with Fernet and fingerprinted with a keyed hash for lookups; keyed
pseudonyms of other identifiers (WeChat openids, WeCom userids) for the audit log."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet


class MobileVault:
    """Encrypts, reveals and fingerprints mobiles with one configured key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._fingerprint_key = hmac.new(key, b"yutang/mobile-fingerprint", hashlib.sha256).digest()
        self._pseudonym_key = hmac.new(key, b"yutang/audit-pseudonym", hashlib.sha256).digest()

    def fingerprint(self, mobile: str) -> str:
        """A stable keyed hash: equal mobiles match without storing them in clear."""
        return hmac.new(self._fingerprint_key, mobile.encode(), hashlib.sha256).hexdigest()

    def seal(self, mobile: str) -> str:
        """The ciphertext stored in the database."""
        return self._fernet.encrypt(mobile.encode()).decode()

    def reveal(self, ciphertext: str) -> str:
        """The mobile in clear, for callers with personal-data rights."""
        return self._fernet.decrypt(ciphertext.encode()).decode()

    def pseudonym(self, kind: str, value: str) -> str:
        """A keyed, stable stand-in for an identifier that must not be stored in clear, e.g.
        `wechat-openid#3f9a0c1d2b4e5f60`: the same identifier always gives the same pseudonym (refusals of one
        WeChat user can be grouped), and without the key it cannot be traced back or guessed from a list."""
        digest = hmac.new(self._pseudonym_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}#{digest[:16]}"
