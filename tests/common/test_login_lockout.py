"""Guessing admin passwords: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one
address, the admin's own login form refuses that pair (429) with a message saying why and for how
long, even with the right password; an admin can unlock it at once (django-axes)."""

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.factories import UserFactory

PASSWORD = "the-Right-passw0rd"
LIMIT = 5

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def ops():
    return UserFactory(username="ops", password=PASSWORD, groups=["Responder"])


def log_in(username: str, password: str, address: str = "203.0.113.5") -> tuple[Client, object]:
    """The admin's real login form: fetch it (CSRF cookie and token), then post it."""
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    form = client.get("/admin/login/?next=/admin/")
    token = form.context["csrf_token"]
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/", "csrfmiddlewaretoken": str(token)},
    )
    return client, response


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_wrong_passwords_lock_the_username_at_this_address(ops):
    for _ in range(LIMIT - 1):
        _, response = log_in("ops", "guess")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()

    _, locked = log_in("ops", "guess")
    _, right_password = log_in("ops", PASSWORD)

    for response in (locked, right_password):
        assert response.status_code == 429
        page = response.content.decode()
        assert "Too many failed logins for this username from your address" in page
        assert "locked for 15 minutes" in page
        assert 'id="login-form"' in page  # Still the admin's login page, not a bare error.
        assert response["Retry-After"] == "900"
    assert AccessAttempt.objects.get(username="ops").failures_since_start >= LIMIT


def test_the_lock_is_per_username_and_address(ops):
    UserFactory(username="other", password=PASSWORD, groups=["Viewer"])
    for _ in range(LIMIT):
        log_in("ops", "guess")

    assert log_in("ops", PASSWORD)[1].status_code == 429
    # The same person from another address, and another user from the same one, get in.
    assert logged_in(log_in("ops", PASSWORD, address="198.51.100.9")[1])
    assert logged_in(log_in("other", PASSWORD)[1])


def test_a_success_resets_the_count(ops):
    for _ in range(LIMIT - 1):
        log_in("ops", "guess")
    assert logged_in(log_in("ops", PASSWORD)[1])
    for _ in range(LIMIT - 1):
        log_in("ops", "guess")
    assert logged_in(log_in("ops", PASSWORD)[1])


def test_an_admin_unlocks_it_in_the_admin(ops, admin_user, client):
    for _ in range(LIMIT):
        log_in("ops", "guess")
    attempt = AccessAttempt.objects.get(username="ops")
    client.force_login(admin_user)

    listed = client.get("/admin/axes/accessattempt/")
    deleted = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200 and "ops" in listed.content.decode()
    assert deleted.status_code == 302
    assert logged_in(log_in("ops", PASSWORD)[1])


def test_the_lock_ends_after_the_cool_off(ops, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for _ in range(LIMIT):
        log_in("ops", "guess")
    assert log_in("ops", PASSWORD)[1].status_code == 429

    time.sleep(1.2)

    assert logged_in(log_in("ops", PASSWORD)[1])
