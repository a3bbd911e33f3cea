"""Every URL pattern, every mutating method: a signed-in session without the CSRF token gets 403.

The access matrix (test_access_matrix.py) asks each URL with the methods its views serve, as six
identities, and checks CSRF on those. This complements it from the other side: every pattern of
the URLconf (Django's admin included) is asked with POST, PUT, PATCH and DELETE by a superuser's
session with no CSRF token, whether or not its view serves the method, and must be refused for
want of the token before any view decides anything. So a new view that forgets CSRF, or is made
exempt, fails here. Only the Kubernetes API's token routes are left out: a token in the URL is not
an ambient credential a browser would add to a forged request (the matrix covers them).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve
from django.views.decorators.csrf import csrf_exempt

pytestmark = pytest.mark.django_db

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
# Values for the patterns' named parts, by name, then by converter.
BY_NAME = {
    "sandbox_uid": "0" * 32,
    "token": "kt_token",
    "path": "api/v1/namespaces/default/configmaps",
    "app_label": "auth",
    "url": "nowhere/",
    "uidb64": "MQ",
    "code": "ABCDEFGH",
}
BY_CONVERTER = {"int": "1", "slug": "default", "str": "x", "path": "1", "uuid": "00000000-0000-0000-0000-000000000000"}
TOKEN_ROUTES = re.compile(r"^\^?k8s/.*/t/")  # both: the regex route and the bare prefix with a token


def routes(patterns=None, prefix: str = ""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern).removeprefix("^") if prefix else str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def example_url(route: str) -> str:
    """A URL the route matches, its parts filled in from BY_NAME or by their converter."""

    def part(match: re.Match) -> str:
        converter, name = match.group("converter") or "str", match.group("name")
        return BY_NAME.get(name, BY_CONVERTER[converter])

    url = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", lambda m: BY_NAME[m.group("name")], route)
    url = re.sub(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>", part, url)
    return "/" + url.removeprefix("^").removesuffix("$")


TESTED = [route for route in routes() if not TOKEN_ROUTES.match(route)]


def test_every_route_gets_an_example_url_that_reaches_it():
    assert len(TESTED) > 70  # the walk found the whole URLconf, the admin's too
    wrong = [route for route in TESTED if resolve(example_url(route)).route != route]
    assert not wrong, f"no example URL reaches these routes (add values to BY_NAME): {wrong}"


def answers_without_token(url: str) -> dict[str, tuple[int, bool]]:
    """Each mutating method's status, and whether the answer names CSRF, for a superuser's session."""
    admin, _ = User.objects.get_or_create(username="root", defaults={"is_staff": True, "is_superuser": True})
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    answered = {}
    for method in MUTATING:
        response = client.generic(method, url, b"{}", content_type="application/json")
        answered[method] = (response.status_code, "CSRF" in response.content.decode(errors="replace"))
    return answered


REFUSED = dict.fromkeys(MUTATING, (403, True))


@pytest.mark.parametrize("route", TESTED)
def test_a_session_without_the_csrf_token_cannot_write_anywhere(route):
    url = example_url(route)
    assert answers_without_token(url) == REFUSED, url


@csrf_exempt
def exempt_view(request):
    return HttpResponse("changed")


urlpatterns = [path("exempt", exempt_view)]


@override_settings(ROOT_URLCONF=__name__)
def test_a_view_made_exempt_would_be_found():
    assert answers_without_token("/exempt") == dict.fromkeys(MUTATING, (200, False))
