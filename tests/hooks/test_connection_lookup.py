"""Operator commands run outside a task: a connection that lives only in Airflow's metadata DB (added with
``airflow connections add``) must still be found, where the Task SDK alone sees environment variables only."""

from __future__ import annotations

import pytest

from zoho_cscart_sync.hooks.config import lookup_connection


@pytest.fixture
def db_connection(airflow_db, monkeypatch):
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    conn_id = "zcs_test_only_in_the_db"
    monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id.upper()}", raising=False)
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn_id).delete()
        session.add(Connection(conn_id=conn_id, conn_type="cscart", host="https://shop.example", login="a@b.example"))
    yield conn_id
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn_id).delete()


def test_a_connection_only_in_the_metadata_db_is_found_outside_a_task(db_connection):
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    with pytest.raises(AirflowNotFoundException):
        BaseHook.get_connection(db_connection)  # what the hooks used before: the Task SDK alone
    found = lookup_connection(db_connection)
    assert (found.conn_id, found.conn_type, found.host) == (db_connection, "cscart", "https://shop.example")


def test_an_unknown_connection_is_still_not_found(airflow_db):
    from airflow.sdk.exceptions import AirflowNotFoundException

    with pytest.raises(AirflowNotFoundException):
        lookup_connection("zcs_no_such_connection")
