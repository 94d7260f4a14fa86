"""A template preview shows an incident's fields: the service asks for the right to see templates,
and incidents when one is named, whatever interface calls it."""

import pytest
from django.contrib.auth.models import Permission

from common.actor import Actor, Source
from common.exceptions import PermissionDeniedError
from notifications.services.configuration import template_preview
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_preview_needs_the_template_and_incident_permissions(open_incident, viewer):
    incident = open_incident()
    outsider = UserFactory(username="outsider")
    outsider.user_permissions.add(Permission.objects.get(codename="view_messagetemplate"))
    preview = {
        "subject": "{{ incident.title }}",
        "body": "{{ incident.description }}",
        "event_kind": "resolved",
    }

    with pytest.raises(PermissionDeniedError):
        template_preview(
            by=Actor(user=UserFactory(username="nobody"), source=Source.API), incident=None, **preview
        )
    with pytest.raises(PermissionDeniedError):
        template_preview(by=Actor(user=outsider, source=Source.API), incident=incident, **preview)
    assert template_preview(by=Actor(user=outsider, source=Source.API), incident=None, **preview)
    message = template_preview(by=Actor(user=viewer, source=Source.API), incident=incident, **preview)
    assert message.subject == incident.title
