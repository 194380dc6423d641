"""Zoho data centres: region -> (accounts server, API domain), per zoho_api.md section 1.1."""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple


class ZohoDataCentre(NamedTuple):
    """The two hosts a Zoho data centre uses."""

    accounts_url: str
    api_domain: str


_US = ZohoDataCentre("https://accounts.zoho.com", "https://www.zohoapis.com")
_EU = ZohoDataCentre("https://accounts.zoho.eu", "https://www.zohoapis.eu")
_IN = ZohoDataCentre("https://accounts.zoho.in", "https://www.zohoapis.in")
_AU = ZohoDataCentre("https://accounts.zoho.com.au", "https://www.zohoapis.com.au")
_JP = ZohoDataCentre("https://accounts.zoho.jp", "https://www.zohoapis.jp")
# Canada is the odd one out: accounts on zohocloud.ca, APIs on zohoapis.ca.
_CA = ZohoDataCentre("https://accounts.zohocloud.ca", "https://www.zohoapis.ca")
_SA = ZohoDataCentre("https://accounts.zoho.sa", "https://www.zohoapis.sa")
_CN = ZohoDataCentre("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn")
# UK: accounts host is documented; the API domain is unconfirmed (zoho_api.md marks it U).
_UK = ZohoDataCentre("https://accounts.zoho.uk", "https://www.zohoapis.uk")

# Keys: the domain suffix users know (com, eu, com.au, ...) and Zoho's `location` codes (us, au, ...).
ZOHO_REGIONS = MappingProxyType(
    {
        "com": _US,
        "us": _US,
        "eu": _EU,
        "in": _IN,
        "com.au": _AU,
        "au": _AU,
        "jp": _JP,
        "ca": _CA,
        "sa": _SA,
        "com.cn": _CN,
        "cn": _CN,
        "uk": _UK,
    }
)
DEFAULT_REGION = "com"


def data_centre(region: str) -> ZohoDataCentre:
    """The hosts of ``region``; raises ValueError listing the known regions."""
    key = region.strip().lower().lstrip(".")
    try:
        return ZOHO_REGIONS[key]
    except KeyError:
        known = ", ".join(sorted(ZOHO_REGIONS))
        raise ValueError(f"unknown Zoho region {region!r}; expected one of: {known}") from None
