"""The war room's quick forms take outside text (a responder's note, a status update): every value of
the hostile corpus is stored as written (trimmed) or refused with a form error that stores nothing,
never a 500, and the page shows what was stored escaped."""

import pytest
from django.utils.html import escape

from incidents.choices import EventKind
from incidents.models import StatusUpdate, TimelineEvent
from tests.admin_support import change_url
from tests.hostile import HOSTILE, TEN_KB
from tests.incidents.test_admin import quick_url

FORMS = {
    "note": ({}, lambda incident: TimelineEvent.objects.filter(incident=incident, kind=EventKind.NOTE)),
    "update": (
        {"quick-update-visibility": "internal"},
        lambda incident: StatusUpdate.objects.filter(incident=incident),
    ),
}


@pytest.mark.parametrize("form", FORMS)
def test_hostile_text_through_the_quick_forms(client, responder, open_incident, form):
    extra, rows = FORMS[form]
    incident = open_incident()
    client.force_login(responder)
    accepted = []
    for name, value in HOSTILE.items():
        before = rows(incident).count()
        response = client.post(quick_url(incident, form), {f"quick-{form}-message": value, **extra})
        assert response.status_code in (200, 302), name
        if response.status_code == 200:  # Refused with a form error: nothing written.
            assert response.context["form"].errors, name
            assert rows(incident).count() == before, name
            assert not value.strip() or len(value) >= TEN_KB, name
        else:
            accepted.append(value)

    assert sorted(rows(incident).values_list("message", flat=True)) == sorted(v.strip() for v in accepted)
    assert len(accepted) >= len(HOSTILE) - 4  # At most the empty, blank ones and the 10 KB one.

    body = client.get(change_url(incident)).content.decode()
    assert escape(HOSTILE["process substitution"]) in body
    assert HOSTILE["process substitution"] not in body
