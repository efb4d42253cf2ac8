"""Webhook secrets at rest: Fernet (AES-128-CBC with HMAC-SHA256) under keys from settings, rotatable.

A stored secret is `fernet:<token>`. MultiFernet encrypts with the first key and decrypts with any, so a new key goes
first, `python -m app seal-webhook-secrets` re-encrypts every row under it, and then the old key can be dropped.
A value without the prefix is a secret stored in clear before encryption: it is read as it is, so those webhooks keep
delivering, until the same command encrypts it.

What is sealed is the HMAC signing key (app.domain.webhooks.signing_key): at most 64 bytes whatever the secret's
length, so every token fits the existing 200-character column.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from app.domain.webhooks import signing_key

PREFIX = "fernet:"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts (a key was dropped too early)."""


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        fernets = [Fernet(key) for key in keys]
        self._first = fernets[0]
        self._any = MultiFernet(fernets)

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def seal(self, key: bytes) -> str:
        """The column value for a signing key."""
        return PREFIX + self._any.encrypt(key).decode("ascii")

    def open(self, stored: str) -> bytes:
        """The signing key a column value holds; a value in clear (from before encryption) is the secret itself."""
        if not self.is_sealed(stored):
            return signing_key(stored)
        try:
            return self._any.decrypt(stored.removeprefix(PREFIX).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretUnreadable from None

    def is_current(self, stored: str) -> bool:
        """Sealed under the first key, so nothing is left to do for this value."""
        if not self.is_sealed(stored):
            return False
        try:
            self._first.decrypt(stored.removeprefix(PREFIX).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True

    def reseal(self, stored: str) -> str:
        """The value sealed under the first key (a value in clear is encrypted); SecretUnreadable when no key opens
        it."""
        return stored if self.is_current(stored) else self.seal(self.open(stored))
