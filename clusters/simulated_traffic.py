"""The requests a sandbox's simulated clients send its web servers, read from the store.

The simulated runtime of one node models what its servers use; how busy a server is depends on
clients anywhere in the sandbox. A node's runtime asks this reader (when its kubelet samples
usage, every 15 s while someone reads metrics) and gets, by pod uid, the requests a second that
clusters.runtime.modelled_traffic computes from the sandbox's pods, Services and Endpoints.
"""

from __future__ import annotations

from clusters import store
from clusters.models import Sandbox
from clusters.objects.resources import resource_for_kind
from clusters.runtime.modelled_traffic import served_rates

PODS = resource_for_kind("v1", "Pod")
SERVICES = resource_for_kind("v1", "Service")
ENDPOINTS = resource_for_kind("v1", "Endpoints")


class SandboxTraffic:
    """Called with no arguments: the sandbox's served request rates, by pod uid."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self) -> dict[str, float]:
        def listed(resource) -> list[dict]:
            return store.objects_read(sandbox=self.sandbox, resource=resource)

        return served_rates(listed(PODS), listed(SERVICES), listed(ENDPOINTS))
