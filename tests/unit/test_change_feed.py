"""The watch feed's reader wakes on PostgreSQL's notification of a committed write, not its tick."""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection

from clusters import store
from clusters.kube import feed
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

pytestmark = [
    pytest.mark.django_db(transaction=True),  # a notification is sent when a write commits
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no notifications: the feed polls"),
]


def test_a_committed_write_wakes_the_feed_long_before_its_tick(monkeypatch):
    sandbox = sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")
    monkeypatch.setattr(feed, "NOTIFIED_TICK_SECONDS", 600.0)
    waker = feed._Waker()
    waker._listener = waker._listen()  # listening before the write, as the running feed is
    waiting = threading.Thread(target=waker.wait, daemon=True)
    waiting.start()
    before = store.current_resource_version()
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "news"}}
    store.object_create(sandbox=sandbox, resource=resource_for_kind("v1", "ConfigMap"), body=body, namespace="default")
    waiting.join(timeout=60)
    assert not waiting.is_alive(), "the write's notification did not wake the feed"
    assert [e.name for e in feed._changes_since(before)] == ["news"]
    waker._listener.close()
