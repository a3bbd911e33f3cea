"""Who may use a sandbox's API (clusters.kube.access): the answers, and that the common case, the
owner's token, costs the API one query."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clusters import errors, idle
from clusters.kube.access import sandbox_for_request
from clusters.models import AccessToken, SandboxActivity
from clusters.sandboxes import sandbox_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned():
    owner = User.objects.create(username="ada")
    sandbox = sandbox_create(owner=owner, runtime="simulated")
    _, key = AccessToken.issue(user=owner)
    return sandbox, key


def ask(sandbox_uid: str, key: str = "", *, user=None):
    return sandbox_for_request(sandbox_uid=sandbox_uid, path_token=key or None, authorization="", user=user)


def test_the_owners_token_is_one_query_sandbox_owner_activity_and_token_together(owned):
    sandbox, key = owned
    idle.sandbox_seen(sandbox=sandbox)  # the activity row exists, and is fresh: nothing to write
    with CaptureQueriesContext(connection) as queries:
        found = ask(sandbox.uid.hex, key)
    assert found.pk == sandbox.pk
    assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]


def test_a_bad_token_is_401_even_for_a_sandbox_that_does_not_exist(owned):
    sandbox, key = owned
    with pytest.raises(errors.Unauthorized):
        ask(sandbox.uid.hex, "not-a-token")
    with pytest.raises(errors.Unauthorized):
        ask(uuid.uuid4().hex, "not-a-token")
    with pytest.raises(errors.NotFound):
        ask(uuid.uuid4().hex, key)


def test_an_inactive_owners_token_is_401(owned):
    sandbox, key = owned
    User.objects.filter(pk=sandbox.owner_id).update(is_active=False)
    with pytest.raises(errors.Unauthorized):
        ask(sandbox.uid.hex, key)


def test_another_users_token_is_403_and_a_superusers_works(owned):
    sandbox, _ = owned
    _, someone = AccessToken.issue(user=User.objects.create(username="bob"))
    with pytest.raises(errors.Forbidden):
        ask(sandbox.uid.hex, someone)
    _, admin = AccessToken.issue(user=User.objects.create(username="root", is_superuser=True))
    assert ask(sandbox.uid.hex, admin).pk == sandbox.pk


def test_a_request_records_use_and_brings_a_paused_sandbox_back(owned):
    sandbox, key = owned
    SandboxActivity.objects.filter(sandbox=sandbox).delete()
    ask(sandbox.uid.hex, key)  # no activity row yet: the request makes one
    assert SandboxActivity.objects.filter(sandbox=sandbox, paused_at=None).exists()
    SandboxActivity.objects.filter(sandbox=sandbox).update(last_active_at=timezone.now() - timedelta(hours=2))
    assert idle.sandboxes_idle_pause(now=timezone.now()) == [sandbox.pk]
    assert idle.sandbox_paused(sandbox)
    ask(sandbox.uid.hex, key)
    assert not idle.sandbox_paused(sandbox)
