"""Zoho OAuth: data-centre map, token encryption, the shared token cache and the requests auth class."""

from __future__ import annotations
