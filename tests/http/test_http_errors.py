"""The error-classification table: one row per documented Zoho / CS-Cart failure shape."""

from __future__ import annotations

import pytest

from zoho_cscart_sync.http.errors import (
    CSCART,
    ZOHO_ACCOUNTS,
    ZOHO_BOOKS,
    ZOHO_CRM,
    ZOHO_INVENTORY,
    Action,
    ApiError,
    AuthenticationError,
    FatalApiError,
    Kind,
    NotFoundError,
    RetryableApiError,
    TokenThrottledError,
    classify,
    error_class_for,
)


@pytest.mark.parametrize(
    ("api", "status", "body", "action", "kind", "code"),
    [
        pytest.param(ZOHO_CRM, 200, {"data": [{"id": "1"}], "info": {}}, Action.OK, Kind.TRANSIENT, None, id="crm-ok"),
        pytest.param(
            ZOHO_CRM,
            401,
            {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"},
            Action.REFRESH_THEN_RETRY,
            Kind.AUTH,
            "INVALID_TOKEN",
            id="crm-invalid-token",
        ),
        pytest.param(
            ZOHO_CRM,
            401,
            {"code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "x", "status": "error"},
            Action.FAIL,
            Kind.CONFIG,
            "OAUTH_SCOPE_MISMATCH",
            id="crm-scope",
        ),
        pytest.param(
            ZOHO_CRM,
            429,
            {"code": "TOO_MANY_REQUESTS", "details": {}, "message": "x", "status": "error"},
            Action.RATE_LIMITED,
            Kind.RATE_LIMIT,
            "TOO_MANY_REQUESTS",
            id="crm-429",
        ),
        pytest.param(
            ZOHO_CRM,
            500,
            {"code": "INTERNAL_ERROR", "details": {}, "message": "x", "status": "error"},
            Action.RETRY,
            Kind.TRANSIENT,
            "INTERNAL_ERROR",
            id="crm-500",
        ),
        pytest.param(
            ZOHO_CRM,
            404,
            {"code": "INVALID_URL_PATTERN", "details": {}, "message": "x", "status": "error"},
            Action.FAIL,
            Kind.CONFIG,
            "INVALID_URL_PATTERN",
            id="crm-wrong-url-or-dc",
        ),
        pytest.param(
            ZOHO_CRM,
            207,
            {
                "data": [
                    {"code": "SUCCESS", "status": "success"},
                    {"code": "DUPLICATE_DATA", "status": "error"},
                ]
            },
            Action.OK,
            Kind.TRANSIENT,
            None,
            id="crm-207-per-record",
        ),
        pytest.param(
            ZOHO_CRM,
            400,
            {"data": [{"code": "MANDATORY_NOT_FOUND", "status": "error", "details": {}}]},
            Action.OK,
            Kind.TRANSIENT,
            None,
            id="crm-400-per-record-is-read-per-record",
        ),
        pytest.param(
            ZOHO_CRM,
            200,
            {"code": "INVALID_MODULE", "details": {}, "message": "x", "status": "error"},
            Action.FAIL,
            Kind.CONFIG,
            "INVALID_MODULE",
            id="crm-error-in-200-body",
        ),
        pytest.param(
            ZOHO_ACCOUNTS,
            200,
            {"error": "invalid_code"},
            Action.FAIL,
            Kind.AUTH,
            "invalid_code",
            id="revoked",
        ),
        pytest.param(
            ZOHO_ACCOUNTS,
            200,
            {"error": "invalid_client"},
            Action.FAIL,
            Kind.CONFIG,
            "invalid_client",
            id="wrong-dc-or-client",
        ),
        pytest.param(
            ZOHO_ACCOUNTS,
            200,
            {"error": "Access Denied", "error_description": "too many requests", "status": "failure"},
            Action.FAIL,
            Kind.RATE_LIMIT,
            "Access Denied",
            id="mint-throttle-200",
        ),
        pytest.param(
            ZOHO_ACCOUNTS,
            400,
            {"error": "Access Denied", "error_description": "too many requests", "status": "failure"},
            Action.FAIL,
            Kind.RATE_LIMIT,
            "Access Denied",
            id="mint-throttle-400",
        ),
        pytest.param(
            ZOHO_ACCOUNTS,
            200,
            {"access_token": "x", "api_domain": "https://www.zohoapis.com", "expires_in": 3600},
            Action.OK,
            Kind.TRANSIENT,
            None,
            id="token-ok",
        ),
        pytest.param(
            ZOHO_INVENTORY,
            401,
            {"code": 14, "message": "could not be authenticated"},
            Action.REFRESH_THEN_RETRY,
            Kind.AUTH,
            "14",
            id="inventory-auth",
        ),
        pytest.param(
            ZOHO_BOOKS,
            401,
            {"code": 57, "message": "You are not authorized to perform this operation"},
            Action.REFRESH_THEN_RETRY,
            Kind.PERMISSION,
            "57",
            id="books-57",
        ),
        pytest.param(
            ZOHO_INVENTORY,
            400,
            {"code": 1001, "message": "Item with SKU already exists"},
            Action.FAIL,
            Kind.DATA,
            "1001",
            id="inventory-validation",
        ),
        pytest.param(
            ZOHO_INVENTORY,
            429,
            {"code": 44, "message": "slow down"},
            Action.RATE_LIMITED,
            Kind.RATE_LIMIT,
            "44",
            id="inventory-429",
        ),
        pytest.param(
            ZOHO_INVENTORY,
            200,
            {"code": 0, "message": "success", "items": []},
            Action.OK,
            Kind.TRANSIENT,
            None,
            id="inventory-ok",
        ),
        pytest.param(
            ZOHO_INVENTORY,
            200,
            {"code": 2, "message": "odd"},
            Action.FAIL,
            Kind.DATA,
            "2",
            id="inventory-error-in-200",
        ),
        pytest.param(
            CSCART, 401, {"message": "Unauthorized", "status": 401}, Action.FAIL, Kind.AUTH, None, id="cs-401"
        ),
        pytest.param(
            CSCART,
            403,
            {"message": "Forbidden", "status": 403},
            Action.FAIL,
            Kind.PERMISSION,
            None,
            id="cs-403",
        ),
        pytest.param(
            CSCART,
            404,
            {"message": "Not Found", "status": 404},
            Action.FAIL,
            Kind.NOT_FOUND,
            None,
            id="cs-404",
        ),
        pytest.param(
            CSCART,
            400,
            {"message": "Bad Request: x", "status": 400},
            Action.FAIL,
            Kind.DATA,
            None,
            id="cs-400",
        ),
        pytest.param(CSCART, 502, None, Action.RETRY, Kind.TRANSIENT, None, id="cs-502"),
        pytest.param(CSCART, 507, None, Action.RETRY, Kind.TRANSIENT, None, id="cs-other-5xx"),
        pytest.param(CSCART, 429, None, Action.RATE_LIMITED, Kind.RATE_LIMIT, None, id="cs-429"),
        pytest.param(CSCART, 201, {"product_id": 5}, Action.OK, Kind.TRANSIENT, None, id="cs-201"),
    ],
)
def test_classification_table(api: str, status: int, body: object, action: Action, kind: Kind, code: str | None):
    verdict = classify(api, status, body)
    assert (verdict.action, verdict.kind, verdict.code) == (action, kind, code)


def test_fail_rules_carry_an_operator_hint():
    verdict = classify(ZOHO_ACCOUNTS, 200, {"error": "invalid_client"})
    assert "data centre" in verdict.hint
    assert "reconnect" in classify(ZOHO_ACCOUNTS, 200, {"error": "invalid_code"}).hint


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        (Kind.AUTH, AuthenticationError),
        (Kind.NOT_FOUND, NotFoundError),
        (Kind.RATE_LIMIT, TokenThrottledError),
        (Kind.DATA, FatalApiError),
        (Kind.CONFIG, FatalApiError),
        (Kind.TRANSIENT, RetryableApiError),
    ],
)
def test_error_class_for_kind(kind: Kind, cls: type[ApiError]):
    assert error_class_for(kind) is cls


def test_error_message_names_tenant_connection_and_endpoint():
    exc = FatalApiError(
        "invalid data",
        tenant="acme_store",
        conn_id="zoho_acme_store",
        api=ZOHO_CRM,
        method="POST",
        endpoint="https://www.zohoapis.com/crm/v8/Contacts/upsert",
        status=400,
        code="INVALID_DATA",
        kind=Kind.DATA,
        hint="fix the mapping",
    )
    text = str(exc)
    for part in (
        "acme_store",
        "zoho_acme_store",
        "POST https://www.zohoapis.com/crm/v8/Contacts/upsert",
        "HTTP 400",
        "INVALID_DATA",
        "fix the mapping",
    ):
        assert part in text
