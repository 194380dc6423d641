"""requests auth class that signs Zoho API calls with a shared, cached access token."""

from __future__ import annotations

import requests

from zoho_cscart_sync.auth.token_manager import ZohoTokenManager

# Zoho expects this prefix, not "Bearer" (zoho_api.md section 1.8).
AUTH_HEADER_PREFIX = "Zoho-oauthtoken"


class ZohoOAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Zoho-oauthtoken <token>``; the token comes from the manager's shared cache."""

    def __init__(self, manager: ZohoTokenManager) -> None:
        self.manager = manager

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"{AUTH_HEADER_PREFIX} {self.manager.access_token().value}"
        return request

    def __repr__(self) -> str:
        return f"ZohoOAuth(tenant={self.manager.tenant!r})"
