"""The keys of the audit hashes (HMAC-SHA256), kept outside the database.

``AUDIT_KEYS`` is ``id:base64secret,id2:base64secret,...``: the first signs new
events and checkpoints, every one verifies, so a key rotates by putting a new
id first and keeping the old ones.  Each event stores the id of its key.
"""
import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from flask import Flask, current_app

MIN_SECRET_BYTES = 16


class UnknownKey(Exception):
    """An event or checkpoint names a key id that AUDIT_KEYS does not hold."""


@dataclass(frozen=True)
class Keyring:
    current: str
    secrets: dict[str, bytes]

    def digest(self, key_id: str | None, blob: bytes) -> str:
        """HMAC-SHA256 under ``key_id``; plain SHA-256 for events written before keys (key id NULL)."""
        if key_id is None:
            return hashlib.sha256(blob).hexdigest()
        try:
            secret = self.secrets[key_id]
        except KeyError:
            raise UnknownKey(key_id) from None
        return hmac.new(secret, blob, hashlib.sha256).hexdigest()


def parse_keys(text: str | None) -> Keyring:
    """``id:base64secret,...`` -> a Keyring; a clear ValueError for anything else."""
    entries = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not entries:
        raise ValueError("AUDIT_KEYS is empty: give id:base64secret[,id:base64secret...]")
    secrets: dict[str, bytes] = {}
    for entry in entries:
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id or len(key_id) > 20:
            raise ValueError(f"AUDIT_KEYS entry {key_id or entry[:8]!r}...: expected id:base64secret, id of 1-20 characters")
        try:
            secret = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            raise ValueError(f"AUDIT_KEYS key {key_id!r}: the secret is not base64") from None
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"AUDIT_KEYS key {key_id!r}: the secret needs at least {MIN_SECRET_BYTES} bytes")
        if key_id in secrets:
            raise ValueError(f"AUDIT_KEYS names key {key_id!r} twice")
        secrets[key_id] = secret
    return Keyring(current=next(iter(secrets)), secrets=secrets)


def init_app(app: Flask) -> None:
    """Parse AUDIT_KEYS once, at start-up, so a malformed value stops the application at once."""
    app.extensions["audit_keys"] = parse_keys(app.config.get("AUDIT_KEYS"))


def keyring() -> Keyring:
    return current_app.extensions["audit_keys"]
