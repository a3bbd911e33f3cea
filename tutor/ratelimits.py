"""Rate limits on what a person can do too often: sign up, log in, Apply, run a console command.

Each limit counts requests per client address or per user in a sliding window (the previous
fixed window's count weighted by how much of it still overlaps, plus the current one's), kept in
a shared cache: Redis when REDIS_URL is set, so that every web process counts together, local
memory in the embedded setup (one web process). A request over its limit gets 429 Too Many
Requests with Retry-After and a translated message saying what and for how long: a page, the
fragment an htmx form swaps in, or JSON for the REST API.

The limits are settings (`RATE_LIMITS`, from TUTOR_RATE_LIMITS); the decision is a pure function
of the counts and the time, so tests drive it with a clock of their own (`clock`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext, ngettext

logger = logging.getLogger(__name__)

CACHE = "ratelimits"
# The time limits are counted by; tests put a clock of their own here.
clock: Callable[[], float] = time.time

# Which limits each URL's POST counts against, and by what: the client's address or the user.
RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "login": (("login", "address"), ("login-user", "username")),
    "signup": (("signup", "address"),),
    "guest": (("signup", "address"),),  # a guest is an account too
    "sandbox-apply": (("apply", "user"),),
    "lesson-apply": (("apply", "user"),),
    "api-sandbox-apply": (("apply", "user"),),
    "sandbox-console": (("console", "user"),),
}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds until a request would be allowed again


def decide(rate: Rate, *, previous: int, current: int, now: float) -> Decision:
    """Whether the request that made the current window's count `current` is allowed: the sliding
    estimate is the previous window's count weighted by the part of it still inside the last
    `rate.seconds`, plus the current window's. When refused, how long until one would pass
    (counting the refused request out again, as `hit` does)."""
    start = now - now % rate.seconds
    elapsed = (now - start) / rate.seconds
    if previous * (1 - elapsed) + current <= rate.count:
        return Decision(True)
    current -= 1  # the refused request is not kept
    if current + 1 > rate.count:
        # Wait for the next window, then until this window's count has slid out far enough.
        later = 1 - (rate.count - 1) / current if current else 0
        wait = start + rate.seconds * (1 + later) - now
    else:
        wait = start + rate.seconds * (1 - (rate.count - current - 1) / previous) - now
    return Decision(False, max(1, math.ceil(wait)))


def client_address(remote_addr: str) -> str:
    """The address a client is counted by: an IPv6 client by its /64, which one host can roam."""
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(name: str, who: str, window: int) -> str:
    return f"{getattr(settings, 'RATE_LIMIT_NAMESPACE', '')}rl:{name}:{who}:{window}"


def hit(name: str, who: str, rate: Rate, *, now: float) -> Decision:
    """Count one request of `who` against the limit `name` and decide; a refused one is not counted."""
    cache = caches[CACHE]
    window = int(now // rate.seconds)
    current_key, previous_key = _key(name, who, window), _key(name, who, window - 1)
    # Kept for two windows: the next window still weighs this one.
    if cache.add(current_key, 1, timeout=2 * rate.seconds + 1):
        current = 1
    else:
        try:
            current = cache.incr(current_key)
        except ValueError:  # expired between the two calls
            cache.add(current_key, 1, timeout=2 * rate.seconds + 1)
            current = 1
    decision = decide(rate, previous=cache.get(previous_key, 0), current=current, now=now)
    if not decision.allowed:
        uncount(name, who, rate, now=now)
    return decision


def uncount(name: str, who: str, rate: Rate, *, now: float) -> None:
    """Take back one request counted by `hit` at `now`."""
    caches[CACHE].decr(_key(name, who, int(now // rate.seconds)))


def _who(kind: str, request: HttpRequest) -> str | None:
    if kind == "username":
        username = request.POST.get("username", "").strip().lower()
        return f"username:{username[:150]}" if username else None
    if kind == "user" and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"address:{client_address(request.META.get('REMOTE_ADDR', ''))}"


def _wait_words(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def message(name: str, retry_after: int) -> str:
    wait = _wait_words(retry_after)
    if name == "signup":
        return gettext("Too many accounts have been made from your address. Try again in %(wait)s.") % {"wait": wait}
    if name == "apply":
        return gettext("You are applying manifests faster than the sandbox allows. Try again in %(wait)s.") % {
            "wait": wait
        }
    if name == "console":
        return gettext("You are running commands faster than the console allows. Try again in %(wait)s.") % {
            "wait": wait
        }
    return gettext("Too many login attempts. Try again in %(wait)s.") % {"wait": wait}


def refusal(request: HttpRequest, name: str, retry_after: int) -> HttpResponse:
    """429 with Retry-After, in the form the request's page can show."""
    text = message(name, retry_after)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": text}, status=429)
    elif request.headers.get("HX-Request"):
        response = HttpResponse(render_to_string("_rate_limited.html", {"message": text}, request), status=429)
    else:
        response = render(request, "429.html", {"message": text}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    """Counts the POSTs of the URLs in RULES against their limits. It sits after the CSRF check,
    so a forged request (refused there) never uses up a person's allowance."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        rules = RULES.get(request.resolver_match.url_name or "", ())
        limits = settings.RATE_LIMITS
        now = clock()
        counted: list[tuple[str, str, Rate]] = []
        try:
            for name, kind in rules:
                rate, who = limits.get(name), _who(kind, request)
                if rate is None or who is None:
                    continue
                decision = hit(name, who, Rate(*rate), now=now)
                if not decision.allowed:
                    # Refused by one limit: the others do not keep this request either.
                    for counted_name, counted_who, counted_rate in counted:
                        uncount(counted_name, counted_who, counted_rate, now=now)
                    return refusal(request, name, decision.retry_after)
                counted.append((name, who, Rate(*rate)))
        except Exception:  # a cache that does not answer must not stop the site: count nothing
            logger.warning("rate limit %s not checked: its cache did not answer", name, exc_info=True)
        return None
