"""Guessing API tokens at speed: after AUTH_FAILURE_LIMIT bad tokens from one address within the
window, that address gets 429 with Retry-After, whatever it sends; other clients are unaffected."""

import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from common.services import api_token_create

INCIDENTS = "/api/v1/incidents/"
LIMIT = 10


@pytest.fixture(autouse=True)
def _throttle(settings):
    """Counters start empty in a private in-memory cache; a small limit keeps the test quick."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.AUTH_FAILURE_LIMIT = LIMIT
    settings.AUTH_FAILURE_WINDOW_SECONDS = 300
    cache.clear()


def http_get(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def from_address(address: str, key: str, **headers) -> APIClient:
    return APIClient(REMOTE_ADDR=address, HTTP_AUTHORIZATION=f"Token {key}", **headers)


@pytest.mark.django_db
def test_hammering_wrong_tokens_gets_429_and_a_good_token_still_works_elsewhere(viewer):
    _, key = api_token_create(user=viewer, name="ci")
    attacker = "203.0.113.7"

    codes = [from_address(attacker, f"mtg_guess{i}").get(INCIDENTS).status_code for i in range(200)]

    assert codes[:LIMIT] == [401] * LIMIT
    assert set(codes[LIMIT:]) == {429}
    refused = from_address(attacker, "mtg_guess-again").get(INCIDENTS)
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"].startswith("Too many failed authentications from your address. Expected")
    assert 0 < int(refused["Retry-After"]) <= 300
    # Even the right key is refused from the throttled address: guesses there learn nothing.
    assert from_address(attacker, key).get(INCIDENTS).status_code == 429
    # Another client with the right key is not affected.
    assert from_address("198.51.100.20", key).get(INCIDENTS).status_code == 200


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_reset_the_count(viewer):
    """Without trusted proxies (NUM_PROXIES=0) the client's own X-Forwarded-For is ignored."""
    codes = [
        from_address("203.0.113.8", "mtg_guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
        .get(INCIDENTS)
        .status_code
        for i in range(LIMIT + 5)
    ]
    assert codes[LIMIT:] == [429] * 5


@pytest.mark.django_db
def test_successes_are_not_counted(viewer):
    _, key = api_token_create(user=viewer, name="ci")
    for _ in range(LIMIT * 3):
        assert from_address("203.0.113.9", key).get(INCIDENTS).status_code == 200


def test_an_unreachable_cache_lets_requests_through(settings, db, viewer):
    """Redis down must not lock every API client out: the throttle fails open (and logs it)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    _, key = api_token_create(user=viewer, name="ci")
    assert from_address("203.0.113.10", "mtg_guess").get(INCIDENTS).status_code == 401
    assert from_address("203.0.113.10", key).get(INCIDENTS).status_code == 200


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_parallel_guessing_over_http_is_cut_off(live_server, user_factory, settings):
    """Eight threads guessing at once against a real server: the count is not lost to races (the
    cache increments atomically), so guessing stops at the limit."""
    # Windows are fixed: one that ended during the run would start the count again (23 401s in a
    # CI run). A window of 10^9 s has its next edge in 2033.
    settings.AUTH_FAILURE_WINDOW_SECONDS = 10**9
    viewer = user_factory(groups=["Viewer"])
    _, key = api_token_create(user=viewer, name="ci")

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda i: http_get(live_server.url + INCIDENTS, f"mtg_guess{i}"), range(300)))

    # Guesses already past the check when the limit is reached still finish: at most one per thread.
    assert LIMIT <= codes.count(401) < LIMIT + 8
    assert codes.count(429) == 300 - codes.count(401)
    assert http_get(live_server.url + INCIDENTS, key) == 429  # Same address (127.0.0.1) as the guesses.
