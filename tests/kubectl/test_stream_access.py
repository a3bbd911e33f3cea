"""exec and port-forward are owner-only, like every other path: another learner's token opens no
stream into a sandbox, and a refused upgrade carries the API's Status."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

SERVER = re.compile(r"^http://(?P<host>[^/]+)/k8s/(?P<sandbox>[0-9a-f]+)/t/(?P<token>[^/]+)$")


def _server(api_server, owner: str) -> re.Match:
    config = yaml.safe_load(api_server.kubeconfig(owner=owner).read_text())
    matched = SERVER.match(config["clusters"][0]["cluster"]["server"])
    assert matched, config["clusters"][0]["cluster"]["server"]
    return matched


def _refusal(url: str, protocol: str = "v5.channel.k8s.io") -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as refused, connect(url, subprotocols=[protocol], open_timeout=10):
        pass
    response = refused.value.response
    return response.status_code, json.loads(bytes(response.body))


def test_another_learners_token_cannot_exec_into_a_sandbox(api_server):
    alice, bob = _server(api_server, "alice"), _server(api_server, "bob")
    url = (
        f"ws://{alice['host']}/k8s/{alice['sandbox']}/t/{bob['token']}"
        "/api/v1/namespaces/default/pods/anything/exec?command=true&stdout=true"
    )
    code, status = _refusal(url)
    assert code == 403
    assert status["kind"] == "Status"
    assert status["reason"] == "Forbidden"
    assert "cannot access sandbox" in status["message"]


def test_an_exec_without_credentials_is_unauthorized(api_server):
    alice = _server(api_server, "alice")
    url = f"ws://{alice['host']}/k8s/{alice['sandbox']}/api/v1/namespaces/default/pods/x/exec?command=true&stdout=true"
    code, status = _refusal(url)
    assert code == 401
    assert status["reason"] == "Unauthorized"


def test_an_exec_into_a_pod_that_does_not_exist_is_not_found(api_server):
    alice = _server(api_server, "alice")
    url = (
        f"ws://{alice['host']}/k8s/{alice['sandbox']}/t/{alice['token']}"
        "/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true"
    )
    code, status = _refusal(url)
    assert code == 404
    assert status["message"] == 'pods "nope" not found'
