"""The namespace controller against the real store: a deleted namespace is finalized and gone,
its Events with it (the store's defaults must not put the finalizer back)."""

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clusters import errors, store
from clusters.controllers.manager import controllers_reconcile
from clusters.models import StoredObject
from clusters.objects.resources import resource_for_kind
from clusters.sandboxes import sandbox_create

NAMESPACES = resource_for_kind("v1", "Namespace")
CONFIGMAPS = resource_for_kind("v1", "ConfigMap")
EVENTS = resource_for_kind("v1", "Event")

pytestmark = pytest.mark.django_db


def test_a_deleted_namespace_is_emptied_finalized_and_removed():
    sandbox = sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated")
    store.object_create(sandbox=sandbox, resource=NAMESPACES, body={"metadata": {"name": "shop"}})
    store.object_create(sandbox=sandbox, resource=CONFIGMAPS, namespace="shop", body={"metadata": {"name": "c"}})
    event = {
        "metadata": {"name": "e"},
        "involvedObject": {"kind": "ConfigMap", "name": "c", "namespace": "shop"},
        "reason": "Seen",
        "message": "seen",
        "type": "Normal",
    }
    store.object_create(sandbox=sandbox, resource=EVENTS, namespace="shop", body=event)
    store.object_delete(sandbox=sandbox, resource=NAMESPACES, namespace="", name="shop")

    controllers_reconcile(sandbox, now=timezone.now())

    with pytest.raises(errors.NotFound):
        store.object_get(sandbox=sandbox, resource=NAMESPACES, namespace="", name="shop")
    assert not StoredObject.objects.filter(sandbox=sandbox, namespace="shop").exists()
