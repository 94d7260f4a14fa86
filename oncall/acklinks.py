"""The acknowledge link every page carries: signed (SECRET_KEY), single-purpose (its own salt, so no
other signed value of Mitigate opens it), expiring (ONCALL_ACK_LINK_MAX_AGE), naming the page and the
person paged. Opening it shows the incident; only a POST acknowledges."""

import base64
import time
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

SALT = "mitigate.oncall.page-ack"


@dataclass(frozen=True)
class AckClaim:
    page_id: int
    user_id: int | None
    # Sent by SMS with ONCALL_SMS_ONE_CLICK_ACK on: the link acknowledges without a login.
    one_click: bool = False


class AckLinkInvalidError(Exception):
    """The token is forged, altered, expired or of another purpose: the message says which, plainly."""


def _b36(number: int) -> str:
    return int_to_base36(number)


def _signature(value: str) -> str:
    # 128 bits of an HMAC-SHA256 keyed by SECRET_KEY and the salt: as unguessable as the full digest
    # for a link that lives a day, and short enough that the link fits in an SMS beside the subject.
    digest = salted_hmac(SALT, value, algorithm="sha256").digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ack_token_make(*, page_id: int, user_id: int | None, one_click: bool = False) -> str:
    """`<page>.<user or ->.<one-click 0/1>.<issued, unix seconds>.<signature>`, numbers in base 36."""
    issued = _b36(int(time.time()))
    value = f"{_b36(page_id)}.{_b36(user_id) if user_id is not None else '-'}.{int(one_click)}.{issued}"
    return f"{value}.{_signature(value)}"


def ack_token_read(token: str) -> AckClaim:
    invalid = AckLinkInvalidError("This acknowledge link is not valid.")
    value, _, signature = token.rpartition(".")
    if not value or not constant_time_compare(signature, _signature(value)):
        raise invalid
    try:
        page, user, one_click, issued = value.split(".")
        page_id = base36_to_int(page)
        user_id = None if user == "-" else base36_to_int(user)
        issued_at = base36_to_int(issued)
    except ValueError as error:
        raise invalid from error
    if one_click not in ("0", "1"):
        raise invalid
    if time.time() - issued_at > settings.ONCALL_ACK_LINK_MAX_AGE.total_seconds():
        raise AckLinkInvalidError("This acknowledge link has expired.")
    return AckClaim(page_id=page_id, user_id=user_id, one_click=one_click == "1" and user_id is not None)


def ack_link_make(*, page_id: int, user_id: int | None, one_click: bool = False) -> str:
    """The absolute URL sent in a page (SITE_URL + the ack view)."""
    token = ack_token_make(page_id=page_id, user_id=user_id, one_click=one_click)
    return settings.SITE_URL + reverse("oncall:ack", args=[token])
