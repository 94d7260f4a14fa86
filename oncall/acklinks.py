"""The acknowledge link every page carries: signed (SECRET_KEY), single-purpose (its own salt, so no
other signed value of Mitigate opens it), expiring (ONCALL_ACK_LINK_MAX_AGE), naming the page and the
person paged. Opening it shows the incident; only a POST acknowledges."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "mitigate.oncall.page-ack"


@dataclass(frozen=True)
class AckClaim:
    page_id: int
    user_id: int | None
    # Sent by SMS with ONCALL_SMS_ONE_CLICK_ACK on: the link acknowledges without a login.
    one_click: bool = False


class AckLinkInvalidError(Exception):
    """The token is forged, altered, expired or of another purpose: the message says which, plainly."""


def ack_token_make(*, page_id: int, user_id: int | None, one_click: bool = False) -> str:
    return signing.dumps({"p": page_id, "u": user_id, "o": one_click}, salt=SALT, compress=True)


def ack_token_read(token: str) -> AckClaim:
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ONCALL_ACK_LINK_MAX_AGE)
    except signing.SignatureExpired as error:
        raise AckLinkInvalidError("This acknowledge link has expired.") from error
    except signing.BadSignature as error:
        raise AckLinkInvalidError("This acknowledge link is not valid.") from error
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        raise AckLinkInvalidError("This acknowledge link is not valid.")
    user_id = data.get("u")
    user_id = user_id if isinstance(user_id, int) else None
    return AckClaim(
        page_id=data["p"], user_id=user_id, one_click=data.get("o") is True and user_id is not None
    )


def ack_link_make(*, page_id: int, user_id: int | None, one_click: bool = False) -> str:
    """The absolute URL sent in a page (SITE_URL + the ack view)."""
    token = ack_token_make(page_id=page_id, user_id=user_id, one_click=one_click)
    return settings.SITE_URL + reverse("oncall:ack", args=[token])
