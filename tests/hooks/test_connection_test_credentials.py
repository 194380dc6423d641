"""`airflow connections test` proves the credentials it is given, even while a cached access token exists.

The token cache is keyed by a salted fingerprint of client id, client secret and refresh token: a connection
whose secret changed (a typo, a rotated secret) finds no cached token, mints, and Zoho's answer decides.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

AIRFLOW = Path(sys.executable).with_name("airflow")


def _connections_test(conn_id: str, env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(
        [str(AIRFLOW), "connections", "test", conn_id], env=env, capture_output=True, text=True, timeout=120
    )
    return result.returncode, result.stdout + result.stderr


def test_wrong_client_secret_fails_the_connection_test_despite_a_cached_token(
    zoho_connection, count_calls, tmp_path: Path
):
    from cryptography.fernet import Fernet

    conn_id = zoho_connection()
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # With a Fernet key the cache is readable whatever the client secret: the case the issue reported.
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_CONN_ZOHO_CSCART_STATE": json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "state.db")}),
    }
    code, output = _connections_test(conn_id, env)
    assert code == 0 and "Connection success!" in output, output
    assert count_calls("POST /oauth/v2/token") == 1

    document = json.loads(env[f"AIRFLOW_CONN_{conn_id.upper()}"])
    secret = document["password"]
    wrong = {**env, f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps({**document, "password": "typo-" + secret})}
    code, output = _connections_test(conn_id, wrong)
    assert "Connection success!" not in output, output
    assert count_calls("POST /oauth/v2/token") == 2  # the wrong secret was tried at Zoho, not served from cache
    assert "typo-" + secret not in output and secret not in output

    # The right credentials still reuse their own cached token (no second mint for them).
    code, output = _connections_test(conn_id, env)
    assert code == 0 and "Connection success!" in output, output
    assert count_calls("POST /oauth/v2/token") == 2
