"""Encryption of cached access tokens."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from zoho_cscart_sync.auth.crypto import TokenCipher, TokenDecryptError, airflow_fernet_keys

TOKEN = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"


def test_hkdf_key_round_trip_without_plaintext_in_ciphertext():
    cipher = TokenCipher("client-secret-1", fernet_keys=[])
    ciphertext = cipher.encrypt(TOKEN)
    assert TOKEN not in ciphertext
    assert cipher.source == "hkdf-client-secret"
    assert cipher.decrypt(ciphertext) == TOKEN
    # Same secret, new instance (another task process): still decrypts.
    assert TokenCipher("client-secret-1", fernet_keys=[]).decrypt(ciphertext) == TOKEN


def test_other_client_secret_cannot_decrypt():
    ciphertext = TokenCipher("client-secret-1", fernet_keys=[]).encrypt(TOKEN)
    with pytest.raises(TokenDecryptError) as excinfo:
        TokenCipher("client-secret-2", fernet_keys=[]).decrypt(ciphertext)
    assert ciphertext not in str(excinfo.value)


def test_airflow_fernet_key_is_preferred_and_old_hkdf_tokens_still_decrypt():
    key = Fernet.generate_key().decode()
    legacy = TokenCipher("secret", fernet_keys=[]).encrypt(TOKEN)
    cipher = TokenCipher("secret", fernet_keys=[key])
    assert cipher.source == "airflow-fernet-key"
    ciphertext = cipher.encrypt(TOKEN)
    assert Fernet(key.encode()).decrypt(ciphertext.encode()).decode() == TOKEN
    assert cipher.decrypt(legacy) == TOKEN


def test_airflow_fernet_keys_read_from_config(monkeypatch: pytest.MonkeyPatch):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", f"{key_a}, {key_b}")
    assert airflow_fernet_keys() == [key_a, key_b]
    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "")
    assert airflow_fernet_keys() == []
