"""Person and contact-data transforms: e-mails, placeholder e-mails, phones, names."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import Field

from zoho_cscart_sync.mapping.errors import TransformError
from zoho_cscart_sync.mapping.paths import get_path
from zoho_cscart_sync.mapping.transforms.base import NoArgs, TransformArgs, TransformContext, is_empty
from zoho_cscart_sync.mapping.transforms.text import _require_text

#: Flag set on a mapped record whose e-mail was generated (the state store keeps it on the link).
NO_EMAIL_FLAG = "no_email"

#: What an e-mail must look like (also the content rule of ``format: email`` target fields).
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class EmailNormaliseArgs(TransformArgs):
    #: Treat addresses under the reserved ``.invalid`` TLD (our placeholders) as empty, so a placeholder
    #: generated for a Zoho contact without e-mail is never written back to Zoho.
    drop_placeholders: bool = False


def email_normalise(value: Any, args: EmailNormaliseArgs, ctx: TransformContext) -> Any:
    """Trim and lower-case an e-mail; blank becomes ``None``; a malformed address is an error.

    Lower-casing the local part is what both CS-Cart (case-insensitive uniqueness check) and the state
    store's natural-key lookup assume. The message never repeats the address (personal data).
    """
    if is_empty(value):
        return None
    email = _require_text(value, "email_normalise").strip().lower()
    if not EMAIL_SHAPE.match(email):
        raise TransformError("not a valid e-mail address (expected local@domain.tld)")
    if args.drop_placeholders and email.endswith(".invalid"):
        return None
    return email


class PlaceholderEmailArgs(TransformArgs):
    prefix: str = Field(default="no-email", pattern=r"^[a-z0-9][a-z0-9.-]*$")


def _domain_label(tenant: str) -> str:
    # Underscores are not valid in host names; tenants are ids such as ``acme_store``.
    label = re.sub(r"[^a-z0-9-]+", "-", tenant.lower()).strip("-")
    return label or "tenant"


def placeholder_email(value: Any, args: PlaceholderEmailArgs, ctx: TransformContext) -> Any:
    """Keep a present e-mail; otherwise ``no-email+<hash>@<tenant>.invalid`` and flag the record.

    The hash covers tenant and source record id only, so the same record always receives the same
    placeholder (re-runs never create a second CS-Cart user), and ``.invalid`` (RFC 2606) can never
    deliver mail to anyone.
    """
    if not is_empty(value):
        return value
    if not ctx.tenant or not ctx.source_id:
        raise TransformError("placeholder_email needs the tenant and the source record id")
    digest = hashlib.sha256(f"{ctx.tenant}\x00{ctx.source_id}".encode()).hexdigest()[:16]
    ctx.flags.add(NO_EMAIL_FLAG)
    return f"{args.prefix}+{digest}@{_domain_label(ctx.tenant)}.invalid"


#: Characters a phone number may contain (also the content rule of ``format: phone`` target fields).
PHONE_ALLOWED = re.compile(r"^[0-9\s\-().+/]+$")


def phone_normalise(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """Digits with an optional leading ``+`` (``00`` prefix becomes ``+``); letters are an error."""
    if is_empty(value):
        return None
    text = _require_text(value, "phone_normalise").strip()
    if not PHONE_ALLOWED.match(text):
        raise TransformError("phone number contains characters other than digits, spaces and + - . ( ) /")
    international = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if not international and digits.startswith("00"):
        digits, international = digits[2:], True
    if not digits:
        return None
    return f"+{digits}" if international else digits


def email_local_part(value: Any, args: NoArgs, ctx: TransformContext) -> Any:
    """``jane.roe@example.com`` -> ``jane.roe``: a last-resort name for a customer whose name is empty.

    Placeholder addresses (``.invalid``) and malformed ones give ``None``: a hash is not a name.
    """
    if is_empty(value):
        return None
    email = _require_text(value, "email_local_part").strip()
    if not EMAIL_SHAPE.match(email) or email.lower().endswith(".invalid"):
        return None
    return email.rsplit("@", 1)[0]


class SplitNameArgs(TransformArgs):
    part: Literal["first", "last"]


def split_name(value: Any, args: SplitNameArgs, ctx: TransformContext) -> Any:
    """``"Ana María López"`` -> first ``"Ana María"``, last ``"López"``; one word is a last name only.

    The last word is the surname because Zoho's ``Last_Name`` is mandatory and CRM builds ``Full_Name``
    as ``First_Name + " " + Last_Name``.
    """
    if is_empty(value):
        return None
    words = _require_text(value, "split_name").split()
    if args.part == "last":
        return words[-1]
    return " ".join(words[:-1]) or None


class JoinNameArgs(TransformArgs):
    fields: list[str] = Field(min_length=1)
    separator: str = " "


def join_name(value: Any, args: JoinNameArgs, ctx: TransformContext) -> Any:
    """Join the non-empty name parts read from ``fields`` (the incoming value is ignored)."""
    parts = [
        _require_text(part, "join_name").strip()
        for part in (get_path(ctx.record, name) for name in args.fields)
        if not is_empty(part)
    ]
    return args.separator.join(parts) if parts else None
