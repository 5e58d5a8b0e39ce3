"""Encryption of backend secrets at rest (Fernet / MultiFernet with key rotation).

Keys come from ``finance_sync_encryption_key`` in odoo.conf or the environment variable
``FINANCE_SYNC_ENCRYPTION_KEY``: one or more urlsafe-base64 Fernet keys separated by
commas. The first key encrypts; every key decrypts; ``rotate`` re-encrypts with the first.
"""
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV_VAR = "FINANCE_SYNC_ENCRYPTION_KEY"


class KeyMissing(RuntimeError):
    """No encryption key is configured."""


class DecryptionFailed(RuntimeError):
    """A ciphertext does not open with any configured key."""


def parse_keys(value):
    keys = [k.strip() for k in (value or "").split(",") if k.strip()]
    if not keys:
        raise KeyMissing(
            "No encryption key configured: set finance_sync_encryption_key in odoo.conf "
            "(or %s) to a Fernet key, e.g. the output of "
            "python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'" % ENV_VAR
        )
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise KeyMissing("finance_sync_encryption_key is not a valid Fernet key list: %s" % exc) from None


def keyring(config_value=None):
    return parse_keys(config_value or os.environ.get(ENV_VAR))


def encrypt(ring, plaintext):
    return ring.encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ring, token):
    try:
        return ring.decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise DecryptionFailed(
            "A stored secret cannot be decrypted with the configured keys "
            "(was finance_sync_encryption_key changed without keeping the old key?)"
        ) from None


def rotate(ring, token):
    try:
        return ring.rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionFailed("A stored secret cannot be rotated: no configured key opens it") from None
