from rest_framework.request import Request

from common.actor import Actor, Source


def request_actor(request: Request) -> Actor:
    """The `by=` of every service call made by the API: the authenticated user, through the API."""
    return Actor(user=request.user, source=Source.API)
