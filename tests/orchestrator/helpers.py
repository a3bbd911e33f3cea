"""What the end-to-end tests ask the cluster through kubectl, and how they wait for it."""

from __future__ import annotations

import json
import textwrap
import time

# Three web pods behind a readiness probe: what most tests start from.
DEPLOYMENT = textwrap.dedent(
    """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            ports: [{containerPort: 80, name: http}]
            readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
    """
)


def pods(kubectl, selector: str = "app=web") -> list[dict]:
    return json.loads(kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def eventually(check, timeout: float = 60, interval: float = 0.3):
    """Poll `check` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {check.__doc__ or check}")
        time.sleep(interval)
