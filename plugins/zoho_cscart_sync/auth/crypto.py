"""Encrypt cached access tokens so the state database never holds a usable plaintext token.

Key choice: Airflow's ``[core] fernet_key`` (the same key that protects Connection passwords) when it is
configured; otherwise a Fernet key derived with HKDF-SHA256 from the Zoho client secret, which every
process that may use the token already has and the state database does not.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

_HKDF_SALT = b"zoho-cscart-sync/token-cache/v1"
_HKDF_INFO = b"zoho access token cache"


class TokenDecryptError(Exception):
    """A cached ciphertext cannot be decrypted (key rotated or client secret changed): treat as a miss."""


def airflow_fernet_keys() -> list[str]:
    """The comma-separated ``[core] fernet_key`` values, or [] when Airflow has none configured."""
    try:
        from airflow.configuration import conf

        value = conf.get("core", "fernet_key", fallback="") or ""
    except Exception:  # noqa: BLE001 - no Airflow config at all (e.g. a bare CLI): fall back to HKDF
        return []
    return [key.strip() for key in value.split(",") if key.strip()]


def derive_key(client_secret: str) -> bytes:
    """A urlsafe-base64 Fernet key derived from the client secret with HKDF-SHA256."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        client_secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


class TokenCipher:
    """Encrypts/decrypts cached access tokens with Airflow's Fernet key(s) or the HKDF-derived key."""

    def __init__(self, client_secret: str, *, fernet_keys: list[str] | None = None) -> None:
        keys = airflow_fernet_keys() if fernet_keys is None else fernet_keys
        fernets = [Fernet(key.encode()) for key in keys]
        self.source = "airflow-fernet-key" if fernets else "hkdf-client-secret"
        # The derived key stays a decryption fallback so tokens cached before a fernet_key was set still work.
        fernets.append(Fernet(derive_key(client_secret)))
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext (text) of an access token."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The access token; raises TokenDecryptError (without the ciphertext) when the key does not fit."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise TokenDecryptError("cached access token cannot be decrypted with the current key") from None
