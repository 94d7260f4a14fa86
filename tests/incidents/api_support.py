"""Helpers for the REST API tests: clients per user and incidents driven into a status through the
services, as production gets them there."""

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from common.actor import Actor, Source
from common.services import api_token_create
from incidents.choices import IncidentStatus
from incidents.models import Incident
from incidents.services import incident_acknowledge, incident_hold, incident_resolve

S = IncidentStatus


def client_for(user: AbstractBaseUser | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token_client(user: AbstractBaseUser) -> APIClient:
    """A client that authenticates every request with a real token, as tooling does."""
    _, key = api_token_create(user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def incidents_url(incident: Incident | None = None, action: str = "") -> str:
    url = "/api/v1/incidents/"
    if incident is not None:
        url += f"{incident.pk}/"
    if action:
        url += f"{action}/"
    return url


def drive(incident: Incident, status: str, *, by: Actor) -> Incident:
    """Move a new incident to `status` through the services."""
    if status == S.NEW:
        return incident
    incident = incident_acknowledge(incident=incident, by=by)
    if status == S.ON_HOLD:
        return incident_hold(incident=incident, by=by, reason="Waiting for the vendor")
    if status == S.RESOLVED:
        return incident_resolve(incident=incident, by=by, summary="Rolled back")
    assert status == S.IN_PROGRESS, status
    return incident


def other_responder(user_factory) -> Actor:
    return Actor(user=user_factory(groups=["Responder"]), source=Source.ADMIN)
