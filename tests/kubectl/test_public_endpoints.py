"""The real kubectl, and plain HTTP, reach a sandbox's public endpoints without credentials."""

import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.kubectl.conftest import KUBECTL


@pytest.fixture(scope="module")
def anonymous_server(api_server):
    """The sandbox's API prefix without the token that the kubeconfig's server URL carries."""
    server = re.search(r"server: (\S+)", api_server.kubeconfig("alice").read_text()).group(1)
    return server.split("/t/")[0]


def anonymous_kubectl(server: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    empty = tmp_path / "no-credentials"
    empty.write_text("")
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(empty), "--server", server, "--cache-dir", str(tmp_path / "cache"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )


def test_kubectl_version_shows_the_server_without_credentials(anonymous_server, tmp_path):
    result = anonymous_kubectl(anonymous_server, tmp_path, "version", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["serverVersion"]["gitVersion"] == "v1.37.0"


def test_kubectl_reads_readyz_verbose_without_credentials(anonymous_server, tmp_path):
    result = anonymous_kubectl(anonymous_server, tmp_path, "get", "--raw", "/readyz?verbose")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[+]ping ok\n[+]etcd ok\nreadyz check passed\n"


def test_kubectl_without_credentials_may_not_list_pods(anonymous_server, tmp_path):
    result = anonymous_kubectl(anonymous_server, tmp_path, "get", "pods")
    assert result.returncode != 0
    assert "You must be logged in to the server" in result.stderr


@pytest.mark.parametrize(("path", "body"), [("/healthz", b"ok"), ("/livez", b"ok"), ("/readyz", b"ok")])
def test_plain_http_gets_the_health_endpoints(anonymous_server, path, body):
    with urllib.request.urlopen(anonymous_server + path, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert response.read() == body


def test_plain_http_gets_version_but_not_a_single_check(anonymous_server):
    with urllib.request.urlopen(anonymous_server + "/version", timeout=10) as response:
        assert json.loads(response.read())["gitVersion"] == "v1.37.0"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(anonymous_server + "/livez/ping", timeout=10)
    assert refused.value.code == 401


def test_the_sites_own_healthz_is_another_endpoint(api_server, anonymous_server):
    """The tutor's own `/healthz` (its parts: database, broker, worker) stays at the site's root."""
    with urllib.request.urlopen(anonymous_server + "/healthz", timeout=10) as response:
        assert response.read() == b"ok"
    try:
        with urllib.request.urlopen(api_server.url + "/healthz", timeout=10) as response:
            site = response.read()
    except urllib.error.HTTPError as error:  # a part may be down in the test stack: 503, same endpoint
        site = error.read()
    assert site != b"ok"
    assert "database" in site.decode()
