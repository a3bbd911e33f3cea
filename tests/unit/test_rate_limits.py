"""Rate limits on sign-up, login, Apply and the console (tutor.ratelimits), with a test clock.

The decision is a pure function of the counts and the time; the middleware is driven through
Django's test client with the clock the tests move; the counters are shown shared between
processes through Redis, and a cache that does not answer lets requests through.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests import services
from tutor import ratelimits
from tutor.env import EnvError, env_rates, parse_rate
from tutor.ratelimits import Rate, client_address, decide, hit

REPO = Path(__file__).resolve().parents[2]
MINUTE = Rate(3, 60)


class FakeClock:
    def __init__(self, now: float = 999_980.0):  # 20 s into a minute, 80 s into five
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    test_clock = FakeClock()
    monkeypatch.setattr(ratelimits, "clock", test_clock)
    return test_clock


# --- the decision ------------------------------------------------------------------------------


def test_requests_up_to_the_limit_pass_and_the_next_is_refused_until_the_window_slides():
    start = 6_000.0  # a minute's start
    assert [decide(MINUTE, previous=0, current=n, now=start + 10).allowed for n in (1, 2, 3)] == [True] * 3
    refused = decide(MINUTE, previous=0, current=4, now=start + 10)
    # Three in this minute: one passes again once a third of the next minute has gone (3 * 2/3 + 1 = 3).
    assert refused == ratelimits.Decision(False, retry_after=70)
    assert decide(MINUTE, previous=3, current=1, now=start + 80).allowed
    assert not decide(MINUTE, previous=3, current=1, now=start + 79).allowed


def test_the_previous_window_weighs_as_much_as_it_still_overlaps():
    start = 6_000.0
    # Five in the last minute, half of it still inside the window: 2.5 + 1 > 3.
    refused = decide(MINUTE, previous=5, current=1, now=start + 30)
    assert refused == ratelimits.Decision(False, retry_after=6)
    assert decide(MINUTE, previous=5, current=1, now=start + 36).allowed


def test_an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_itself():
    assert client_address("2001:db8:1:2:aaaa::1") == client_address("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_address("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_address("192.0.2.7") == "192.0.2.7"


def test_a_refused_request_is_not_counted(clock):
    for _ in range(3):
        assert hit("apply", "user:1", MINUTE, now=clock.now).allowed
    for _ in range(5):  # hammering does not push the wait further out
        assert hit("apply", "user:1", MINUTE, now=clock.now) == ratelimits.Decision(False, 60)
    clock.advance(60)
    assert hit("apply", "user:1", MINUTE, now=clock.now).allowed


# --- the settings ------------------------------------------------------------------------------


def test_rates_are_read_by_name_and_a_wrong_one_names_the_variable():
    assert parse_rate("30/m") == (30, 60)
    assert parse_rate("10/5m") == (10, 300)
    assert parse_rate("off") is None
    defaults = {"login": "10/5m", "apply": "30/m"}
    assert env_rates("R", defaults, {"R": "apply=120/m"}) == {"login": (10, 300), "apply": (120, 60)}
    assert env_rates("R", defaults, {"R": "login=off"})["login"] is None
    with pytest.raises(EnvError, match=r"R: apply='fast' is not a rate; use requests/period"):
        env_rates("R", defaults, {"R": "apply=fast"})
    with pytest.raises(EnvError, match=r"no rate limit named 'signin'; the limits are login, apply"):
        env_rates("R", defaults, {"R": "signin=5/m"})


def test_every_limit_protects_by_default(settings):
    """The defaults the settings ship with, with no environment: none is off."""
    from tutor.settings import DEFAULT_RATE_LIMITS

    rates = env_rates("NOT_SET", DEFAULT_RATE_LIMITS, {})
    assert set(rates) == {"signup", "login", "login-user", "apply", "console"}
    assert all(rate is not None for rate in rates.values())
    assert rates["login-user"][0] <= 10


# --- the middleware ----------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_login_attempts_for_one_username_are_limited_with_a_clear_message_and_retry_after(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-user": (3, 300)}
    client = Client()
    for _ in range(3):
        assert client.post("/accounts/login/", {"username": "Ada", "password": "wrong"}).status_code == 200
    refused = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert refused.status_code == 429
    # 220 s to the next window (the clock is 80 s into one), then a third of it: 3 * 2/3 + 1 = 3.
    assert refused["Retry-After"] == "320"
    assert "Too many login attempts. Try again in 6 minutes." in refused.text
    # Another username from the same address is not held up by it.
    assert client.post("/accounts/login/", {"username": "grace", "password": "wrong"}).status_code == 200
    clock.advance(320)
    assert client.post("/accounts/login/", {"username": "ada", "password": "wrong"}).status_code == 200


def test_a_request_refused_by_one_limit_is_kept_by_none(clock, settings):
    """A login refused for its username does not use up its address's allowance either."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (3, 300), "login-user": (1, 300)}
    client = Client()
    assert client.post("/accounts/login/", {"username": "ada", "password": "x"}).status_code == 200
    for _ in range(5):
        assert client.post("/accounts/login/", {"username": "ada", "password": "x"}).status_code == 429
    for name in ("grace", "linus"):  # the address has used one of three
        assert client.post("/accounts/login/", {"username": name, "password": "x"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "ken", "password": "x"}).status_code == 429


def test_the_message_is_in_korean_for_a_korean_reader(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (1, 60)}
    client = Client(headers={"accept-language": "ko"})
    client.post("/accounts/login/", {"username": "a", "password": "b"})
    refused = client.post("/accounts/login/", {"username": "c", "password": "d"})
    assert refused.status_code == 429
    assert "로그인 시도가 너무 많습니다. 100초 후에 다시 시도하세요." in refused.text


def test_sign_ups_and_guests_count_per_address(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (2, 3600)}
    school = Client(REMOTE_ADDR="203.0.113.5")
    form = {"password1": "a-long-pass-1234", "password2": "a-long-pass-1234"}
    assert school.post("/accounts/signup/", {"username": "one", **form}).status_code == 302
    assert Client(REMOTE_ADDR="203.0.113.5").post("/accounts/guest/").status_code == 302
    refused = Client(REMOTE_ADDR="203.0.113.5").post("/accounts/signup/", {"username": "three", **form})
    assert refused.status_code == 429
    assert "Too many accounts have been made from your address." in refused.text
    assert not User.objects.filter(username="three").exists()
    elsewhere = Client(REMOTE_ADDR="198.51.100.9").post("/accounts/signup/", {"username": "four", **form})
    assert elsewhere.status_code == 302


@pytest.fixture
def learners(settings):
    settings.TUTOR_RUNTIME = "simulated"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "apply": (2, 60), "console": (1, 60)}
    ada, grace = User.objects.create(username="ada"), User.objects.create(username="grace")
    clients = {}
    for user in (ada, grace):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
        assert clients[user.username].get("/sandbox/").status_code == 302  # makes the sandbox
    return clients


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n"


def test_apply_is_limited_per_user_as_an_htmx_fragment_and_as_json(clock, learners):
    ada = learners["ada"]
    htmx = {"HX-Request": "true"}
    assert ada.post("/sandboxes/default/apply", {"manifest": CONFIGMAP}, headers=htmx).status_code == 200
    assert ada.post("/api/sandboxes/default/apply/", {"manifest": CONFIGMAP}).status_code == 200
    fragment = ada.post("/sandboxes/default/apply", {"manifest": CONFIGMAP}, headers=htmx)
    assert fragment.status_code == 429
    assert fragment.text.startswith('<p class="error rate-limited" role="alert">You are applying manifests')
    api = ada.post("/api/sandboxes/default/apply/", {"manifest": CONFIGMAP})
    assert api.status_code == 429
    assert api.json()["detail"].startswith("You are applying manifests faster than the sandbox allows.")
    assert int(api["Retry-After"]) > 0
    # Another learner's allowance is their own.
    assert learners["grace"].post("/sandboxes/default/apply", {"manifest": CONFIGMAP}).status_code == 200


def test_the_console_is_limited_per_user(clock, learners):
    ada = learners["ada"]
    assert ada.post("/sandboxes/default/console", {"command": "kubectl get pods"}).status_code == 200
    refused = ada.post("/sandboxes/default/console", {"command": "kubectl get pods"}, headers={"HX-Request": "1"})
    assert refused.status_code == 429
    assert "You are running commands faster than the console allows. Try again in 100 seconds." in refused.text


def test_a_forged_request_uses_up_nothing(clock, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-user": (1, 60)}
    forged = Client(enforce_csrf_checks=True)
    for _ in range(3):
        assert forged.post("/accounts/login/", {"username": "ada", "password": "x"}).status_code == 403
    assert Client().post("/accounts/login/", {"username": "ada", "password": "x"}).status_code == 200


def test_a_cache_that_does_not_answer_lets_requests_through(clock, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5},
        },
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login-user": (1, 60)}
    for _ in range(2):
        assert Client().post("/accounts/login/", {"username": "ada", "password": "x"}).status_code == 200
    assert "rate limit login not checked" in caplog.text


# Only the settings and the cache: no need to load every app for that.
SUBPROCESS_HIT = """
import sys
from tutor.ratelimits import Rate, hit
print(hit("apply", "user:1", Rate(3, 60), now=float(sys.argv[1])).allowed)
"""


def test_processes_sharing_redis_count_together(settings):
    """Two web processes see one count: three hits here, the fourth from another process is refused."""
    url = services.redis_url()
    prefix = f"rl-test-{uuid.uuid4().hex[:8]}:"
    settings.CACHES = {
        **settings.CACHES,
        "ratelimits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"{prefix}kube-tutor",  # as the settings make it from the deployment's prefix
        },
    }
    settings.RATE_LIMIT_NAMESPACE = ""
    now = 999_980.0
    assert all(hit("apply", "user:1", Rate(3, 60), now=now).allowed for _ in range(3))
    env = {**os.environ, "REDIS_URL": url, "TUTOR_BROKER_KEY_PREFIX": prefix}
    other = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_HIT, str(now)],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "tutor.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == "False"
