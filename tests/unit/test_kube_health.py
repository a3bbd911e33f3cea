"""The public endpoints of a sandbox's API (`/version`, `/healthz`, `/livez`, `/readyz`) answer
without credentials, as `system:public-info-viewer` lets them on a real cluster; the rest does not."""

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError
from django.test import Client

from clusters.kube import views
from clusters.kube.health import health_report
from clusters.models import AccessToken
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"))


@pytest.fixture
def anonymous(sandbox):
    return f"/k8s/{sandbox.uid.hex}"


@pytest.fixture
def signed_in(sandbox, anonymous):
    _, key = AccessToken.issue(user=sandbox.owner)
    return f"{anonymous}/t/{key}"


def test_version_answers_without_credentials(anonymous):
    response = Client().get(f"{anonymous}/version")
    assert response.status_code == 200
    assert response.json()["gitVersion"] == "v1.37.0"


@pytest.mark.parametrize("endpoint", ["healthz", "livez", "readyz"])
def test_each_health_endpoint_says_ok_in_plain_text_without_credentials(anonymous, endpoint):
    response = Client().get(f"{anonymous}/{endpoint}")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_verbose_lists_every_check_as_upstream_does(anonymous):
    response = Client().get(f"{anonymous}/readyz?verbose")
    assert response.status_code == 200
    assert response.content.decode() == "[+]ping ok\n[+]etcd ok\nreadyz check passed\n"


def test_an_excluded_check_is_named_and_an_unknown_one_warned_about(anonymous):
    response = Client().get(f"{anonymous}/livez?verbose&exclude=etcd&exclude=kms-providers")
    assert response.content.decode() == (
        "[+]ping ok\n[+]etcd excluded: ok\n"
        'warn: some health checks cannot be excluded: no matches for "kms-providers"\n'
        "livez check passed\n"
    )


def test_a_single_check_needs_credentials(anonymous, signed_in):
    assert Client().get(f"{anonymous}/livez/ping").status_code == 401
    response = Client().get(f"{signed_in}/livez/etcd")
    assert (response.status_code, response.content) == (200, b"ok")
    assert Client().get(f"{signed_in}/readyz/informer-sync").status_code == 404


def test_a_bad_token_is_refused_even_on_a_public_path(anonymous):
    response = Client().get(f"{anonymous}/t/not-a-token/version")
    assert response.status_code == 401
    assert Client().get(f"{anonymous}/healthz", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401


def test_another_users_session_reads_the_public_paths_but_nothing_else(anonymous):
    browser = Client()
    browser.force_login(User.objects.create(username="bob"))
    assert browser.get(f"{anonymous}/readyz").status_code == 200
    assert browser.get(f"{anonymous}/api/v1/namespaces").status_code == 403


def test_everything_else_still_needs_credentials(anonymous):
    for path in ("/api", "/apis", "/openapi/v3", "/api/v1/namespaces/default/pods"):
        assert Client().get(anonymous + path).status_code == 401, path


def test_an_unknown_sandbox_is_not_found_on_public_paths_too():
    assert Client().get(f"/k8s/{'0' * 32}/livez").status_code == 404


def test_an_unreachable_database_fails_the_etcd_check_with_the_reason_withheld(anonymous, monkeypatch):
    def unreachable(**_):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "sandbox_for_request", unreachable)
    response = Client().get(f"{anonymous}/readyz")
    assert response.status_code == 500
    assert response.content.decode() == "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n"
    assert "connection refused" not in response.content.decode()


def test_the_report_excludes_a_failing_check_when_asked():
    answer = health_report("healthz", {"etcd": "down"}, verbose=False, excluded=["etcd"])
    assert (answer.status, answer.text) == (200, "ok")
