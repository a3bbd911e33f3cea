"""Keys a JSON body sets twice, through the real kubectl and plain HTTP against a live server.

kubectl reads a manifest file itself and sends what it decoded, so `create -f`/`apply -f` never
carry a key twice; `--raw` sends the file as it is, and `patch -p` sends the patch as written.
"""

import json
import re
import urllib.error
import urllib.request

import pytest

CONFIGMAP = (
    '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},'
    ' "data": {"color": "blue", "color": "green"}}'
)
STRICT_ERROR = (
    'Error from server (BadRequest): ConfigMap in version "v1" cannot be handled as a ConfigMap: '
    'strict decoding error: duplicate field "data.color"'
)


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(CONFIGMAP)
    return str(path)


def test_kubectl_create_raw_under_strict_is_refused(kubectl, manifest):
    url = f"/api/v1/namespaces/{kubectl.namespace}/configmaps?fieldValidation=Strict"
    result = kubectl("create", "--raw", url, "-f", manifest, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == STRICT_ERROR
    assert kubectl("get", "configmaps", "-o", "name").stdout.count("settings") == 0


def test_kubectl_replace_raw_under_strict_is_refused(kubectl, manifest):
    kubectl("create", "configmap", "settings", "--from-literal=color=red")
    url = f"/api/v1/namespaces/{kubectl.namespace}/configmaps/settings?fieldValidation=Strict"
    result = kubectl("replace", "--raw", url, "-f", manifest, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == STRICT_ERROR
    assert kubectl.json("get", "configmap", "settings")["data"] == {"color": "red"}


def test_kubectl_create_from_a_file_sends_what_it_decoded_so_nothing_is_refused(kubectl, manifest):
    assert kubectl("create", "-f", manifest, "--validate=strict").stdout.strip() == "configmap/settings created"
    assert kubectl.json("get", "configmap", "settings")["data"] == {"color": "green"}


def test_kubectl_patch_setting_a_key_twice_is_applied_with_a_warning(kubectl):
    kubectl("create", "configmap", "settings", "--from-literal=color=red")
    result = kubectl("patch", "configmap", "settings", "--type", "merge", "-p", '{"data":{"a":"1","a":"2"}}')
    assert result.stdout.strip() == "configmap/settings patched"
    assert result.stderr.strip() == 'Warning: duplicate field "data.a"'
    assert kubectl.json("get", "configmap", "settings")["data"] == {"color": "red", "a": "2"}


def test_plain_http_gets_the_strict_status_and_the_warn_header(api_server, kubectl):
    server = re.search(r"server: (\S+)", kubectl.kubeconfig.read_text()).group(1)
    url = f"{server}/api/v1/namespaces/{kubectl.namespace}/configmaps"

    def post(query: str):
        request = urllib.request.Request(
            url + query, data=CONFIGMAP.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        return urllib.request.urlopen(request, timeout=10)

    with pytest.raises(urllib.error.HTTPError) as refused:
        post("?fieldValidation=Strict")
    status = json.loads(refused.value.read())
    assert (refused.value.code, status["reason"]) == (400, "BadRequest")
    assert status["message"].endswith('strict decoding error: duplicate field "data.color"')
    with post("?fieldValidation=Warn") as created:
        assert created.status == 201
        assert created.headers["Warning"] == '299 - "duplicate field \\"data.color\\""'
        assert json.loads(created.read())["data"] == {"color": "green"}
