"""Twilio's inbound SMS webhook: "ACK 4821" (or "4821") acknowledges the escalating page with that
reply code, as the user whose SMS contact method sent it. The X-Twilio-Signature is checked with the
auth token of the sender the reply went to (an SMS channel's number, or NOTIFICATIONS_SMS_FROM for
pages to people's phones); anything else is 403. The
answer is TwiML, which Twilio sends back to the phone."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from oncall.selectors import sms_auth_token_for
from oncall.services.acks import sms_reply_handle


@csrf_exempt
@require_POST
def twilio_reply(request: HttpRequest) -> HttpResponse:
    try:
        params = {key: request.POST.get(key, "") for key in request.POST}
    except RequestDataTooBig:
        return HttpResponse("Payload too large.", status=413, content_type="text/plain")
    if not _verified(request, params):
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    text = sms_reply_handle(from_number=params.get("From", ""), body=params.get("Body", ""))
    twiml = MessagingResponse()
    twiml.message(text)
    return HttpResponse(str(twiml), content_type="application/xml")


def _verified(request: HttpRequest, params: dict[str, str]) -> bool:
    token = sms_auth_token_for(to_number=params.get("To", ""))
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    # Twilio signs the URL it was configured with: the public address (SITE_URL) behind a proxy,
    # the request's own when reached directly.
    urls = {settings.SITE_URL + request.get_full_path(), request.build_absolute_uri()}
    return any(validator.validate(url, params, signature) for url in urls)
