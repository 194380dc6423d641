"""Region -> data-centre hosts (zoho_api.md 1.1)."""

from __future__ import annotations

import pytest

from zoho_cscart_sync.auth.regions import data_centre


@pytest.mark.parametrize(
    ("region", "accounts", "api"),
    [
        ("com", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        ("us", "https://accounts.zoho.com", "https://www.zohoapis.com"),
        ("eu", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        ("in", "https://accounts.zoho.in", "https://www.zohoapis.in"),
        ("com.au", "https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
        ("jp", "https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        ("ca", "https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
        ("sa", "https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        ("com.cn", "https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
        (" .EU ", "https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    ],
)
def test_known_regions(region: str, accounts: str, api: str):
    assert data_centre(region) == (accounts, api)


def test_unknown_region_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown Zoho region 'mars'.*com\.au"):
        data_centre("mars")
