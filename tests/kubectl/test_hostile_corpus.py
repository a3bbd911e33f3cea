"""The hostile-input corpus: every case of tests/data/hostile/*.yaml, one test per case id.

The format is the shared one (a YAML list of cases): `id`, `what`, and one of three kinds, each
with its `expect`.

request (the common kind): one HTTP request to the learner's own sandbox API, sent by plain HTTP to
    the live server of tests/kubectl/conftest.py (uvicorn, its own database, the simulated runtime
    and no worker: nothing but the API acts). `setup` bodies are POSTed first. The answer must be
    `expect.code`; an error must be a `Status` with that code, `reason`, a `message` substring and,
    when given, a cause naming `field`. A refusal stores nothing: the cluster's resourceVersion
    (one counter for every sandbox of the server) is the same before and after, so no controller
    or kubelet ever hears of it. Extensions of this runner:
      request.auth: own (default) | other-sandbox (alice's token against bob's sandbox) | none | bad-token
      request.expand: {NAME: {repeat: TEXT, times: N, join: SEP}} replaces @NAME@ in the body (and
          path) with TEXT written N times (@i@ in TEXT is the repetition's index): giant bodies,
          names, nesting and lists without giant files
      request.host_absent: a host file that must not exist afterwards (nothing was executed)
      request.encoding: how a string body becomes bytes (default utf-8; latin-1 writes "\\xff" as
          the byte 0xff, for invalid UTF-8)
      expect.returned: {dotted.path: value} that the accepted object must carry (stored verbatim)
      expect.stored: true for an accepted write (the case's objects are deleted afterwards)
page: the sandbox page's Apply form (`page.manifest`, posted with Django's test client as a
    signed-in learner; in this process's own test database; page.expand as request.expand,
    page.host_absent as request.host_absent). expect.message: a substring of the
    result the page shows; expect.line: the line the editor marks with it; expect.stored: false
    (the default) means the store's resourceVersion did not move.
console: a line typed into the sandbox page's console (tutor.sandboxes.console). expect.refused: a
    substring of the console's refusal (nothing runs), or expect.argv: the exact argv kubectl is
    given (literal words, no shell). With `run: true` the accepted line is run as the console runs
    it, against the live server, and expect.output is a substring of what kubectl printed;
    expect.host_absent names a host file that must not exist afterwards (a shell never ran).
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.event_loops import run_apart

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile"
KINDS = ("request", "page", "console")


def _load_cases() -> list[dict]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()) or []:
            case["_file"] = path.name
            cases.append(case)
    return cases


CASES = _load_cases()


def _kind(case: dict) -> str:
    found = [kind for kind in KINDS if kind in case]
    return found[0] if len(found) == 1 else "invalid"


def _of_kind(kind: str) -> list:
    return [pytest.param(case, id=case["id"]) for case in CASES if _kind(case) == kind]


def test_the_corpus_is_well_formed():
    ids = [case.get("id") for case in CASES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for case in CASES:
        assert case.get("id"), case
        assert case.get("what"), case
        assert _kind(case) != "invalid", f"{case['id']}: exactly one of {KINDS}"
        assert isinstance(case.get("expect"), dict), case["id"]
    assert len(CASES) >= 100


# --- building a request ------------------------------------------------------------------------


def _expanded(text: str, expand: dict) -> str:
    for name, rule in (expand or {}).items():
        parts = [rule["repeat"].replace("@i@", str(i)) for i in range(rule["times"])]
        text = text.replace(f"@{name}@", rule.get("join", "").join(parts))
    return text


def _expand_value(value, expand: dict):
    if isinstance(value, str):
        return _expanded(value, expand)
    if isinstance(value, dict):
        return {_expanded(k, expand): _expand_value(v, expand) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_value(item, expand) for item in value]
    return value


def _encoded(request: dict) -> tuple[bytes | None, str]:
    body, expand = request.get("body"), request.get("expand") or {}
    if body is None:
        return None, ""
    if isinstance(body, str):
        text = _expanded(body, expand)
        return text.encode(request.get("encoding", "utf-8")), request.get("content_type", "application/json")
    return json.dumps(_expand_value(body, expand)).encode(), "application/json"


# --- the live server ---------------------------------------------------------------------------


@dataclass
class Sandboxes:
    host: str  # http://127.0.0.1:port
    alice: str  # alice's sandbox uid
    bob: str
    token: str  # alice's token

    def base(self, auth: str) -> str:
        match auth:
            case "own":
                return f"{self.host}/k8s/{self.alice}/t/{self.token}"
            case "other-sandbox":
                return f"{self.host}/k8s/{self.bob}/t/{self.token}"
            case "none":
                return f"{self.host}/k8s/{self.alice}"
            case "bad-token":
                return f"{self.host}/k8s/{self.alice}/t/{'x' * 40}"
        raise ValueError(auth)


@dataclass
class Answer:
    code: int
    headers: dict
    raw: bytes

    @property
    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            return None


def _server_of(kubeconfig: Path) -> tuple[str, str, str]:
    server = re.search(r"server: (\S+)", kubeconfig.read_text()).group(1)
    match = re.fullmatch(r"(http://[^/]+)/k8s/([0-9a-f-]+)/t/([^/]+)", server)
    return match.group(1), match.group(2), match.group(3)


@pytest.fixture(scope="module")
def sandboxes(api_server) -> Sandboxes:
    host, alice, token = _server_of(api_server.kubeconfig("alice"))
    _, bob, _ = _server_of(api_server.kubeconfig("bob"))
    return Sandboxes(host=host, alice=alice, bob=bob, token=token)


def send(sandboxes: Sandboxes, request: dict) -> Answer:
    path = _expanded(request.get("path", ""), request.get("expand") or {})
    data, content_type = _encoded(request)
    method = request.get("method", "POST" if data is not None else "GET")
    call = urllib.request.Request(sandboxes.base(request.get("auth", "own")) + path, data=data, method=method)
    if data is not None:
        call.add_header("Content-Type", content_type)
    call.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return Answer(response.status, _headers(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _headers(error.headers), error.read())


def _headers(message) -> dict[str, str]:
    """Header names in lower case, each header's values joined (one Warning header per warning)."""
    found: dict[str, str] = {}
    for name, value in message.items():
        found[name.lower()] = f"{found[name.lower()]}, {value}" if name.lower() in found else value
    return found


def cluster_version(sandboxes: Sandboxes) -> int:
    """The server's resourceVersion: one counter for every write to any sandbox."""
    listing = send(sandboxes, {"method": "GET", "path": "/api/v1/namespaces"}).json
    return int(listing["metadata"]["resourceVersion"])


def _object_path(request: dict, answer: Answer) -> str | None:
    """Where an object a POST created lives (namespaces are left: without a namespace controller
    here, a deleted one would stay Terminating anyway)."""
    body = answer.json or {}
    name = (body.get("metadata") or {}).get("name")
    if answer.code >= 300 or not name or body.get("kind") == "Namespace":
        return None
    path = _expanded(request.get("path", ""), request.get("expand") or {})
    return f"{path}/{name}" if request.get("method", "POST") == "POST" else path


def _cleanup(sandboxes: Sandboxes, paths: list[str]) -> None:
    for path in reversed(paths):
        send(sandboxes, {"method": "DELETE", "path": f"{path}?gracePeriodSeconds=0"})


def _dig(value, dotted: str):
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", dotted):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def check_status(answer: Answer, expect: dict) -> None:
    status = answer.json
    assert isinstance(status, dict), answer.raw[:500]
    assert status.get("kind") == "Status", answer.raw[:500]
    assert status["code"] == expect["code"], status
    if "reason" in expect:
        assert status.get("reason") == expect["reason"], status
    if "message" in expect:
        assert expect["message"] in status["message"], status["message"][:2000]
    if "field" in expect:
        fields = [cause.get("field") for cause in (status.get("details") or {}).get("causes") or []]
        assert expect["field"] in fields, (fields, status["message"][:2000])


@pytest.mark.parametrize("case", _of_kind("request"))
def test_request_case(case, sandboxes):
    expect, request = case["expect"], case["request"]
    created: list[str] = []
    absent = request.get("host_absent")
    if absent:
        Path(absent).unlink(missing_ok=True)
    try:
        for step in case.get("setup") or []:
            answer = send(sandboxes, step)
            assert answer.code < 300, (step, answer.raw[:500])
            if path := _object_path(step, answer):
                created.append(path)
        before = cluster_version(sandboxes)
        answer = send(sandboxes, request)
        if path := _object_path(request, answer):
            created.append(path)
        assert answer.code == expect["code"], answer.raw[:2000]
        if expect["code"] >= 400:
            check_status(answer, expect)
        for dotted, value in (expect.get("returned") or {}).items():
            assert _dig(answer.json, dotted) == value, dotted
        if "warning" in expect:
            # Each warning is `299 - "<text>"`, its quotes escaped.
            assert expect["warning"] in answer.headers.get("warning", "").replace('\\"', '"'), answer.headers
        stored = expect.get("stored", expect["code"] < 400)
        after = cluster_version(sandboxes)
        assert (after != before) == stored, f"resourceVersion {before} -> {after}"
        if absent:
            assert not Path(absent).exists(), f"{absent} appeared on the host"
    finally:
        _cleanup(sandboxes, created)


# --- the page's Apply form ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("case", _of_kind("page"))
def test_page_case(case, client):
    from django.contrib.auth.models import User

    from clusters.store import current_resource_version
    from tutor.sandboxes.services import learner_sandbox

    learner = User.objects.create_user(f"learner-{uuid.uuid4().hex[:6]}", password="x-pass-1")
    learner_sandbox(user=learner)
    client.force_login(learner)
    expect = case["expect"]
    manifest = _expanded(case["page"]["manifest"], case["page"].get("expand") or {})
    absent = case["page"].get("host_absent")
    if absent:
        Path(absent).unlink(missing_ok=True)
    before = current_resource_version()
    response = client.post("/sandboxes/default/apply", {"manifest": manifest})
    if absent:
        assert not Path(absent).exists(), f"{absent} appeared on the host"
    assert response.status_code == expect.get("code", 200), response.content[:500]
    shown = html.unescape(response.content.decode())
    if "message" in expect:
        assert expect["message"] in shown, shown[:3000]
    if "line" in expect:
        items = json.loads(response["HX-Trigger"])["editor-diagnostics"]["items"]
        assert any(item["line"] == expect["line"] for item in items), items
        assert all(expect.get("message", "") in item["message"] for item in items if item["line"] == expect["line"])
    stored = expect.get("stored", False)
    assert (current_resource_version() != before) == stored


# --- the console -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _of_kind("console"))
def test_console_case(case, request, tmp_path):
    from tutor.sandboxes.console import CommandRefused, console_run, parse_command

    spec, expect = case["console"], case["expect"]
    line = spec if isinstance(spec, str) else spec["line"]
    line = _expanded(line, (spec.get("expand") if isinstance(spec, dict) else None) or {})
    stdin = spec.get("stdin") if isinstance(spec, dict) else None
    absent = expect.get("host_absent")
    if absent:
        Path(absent).unlink(missing_ok=True)
    if "refused" in expect:
        with pytest.raises(CommandRefused) as refused:
            parse_command(line, stdin_available=bool(stdin))
        assert expect["refused"] in refused.value.message
        return
    argv = parse_command(line, stdin_available=bool(stdin))
    if "argv" in expect:
        assert argv == expect["argv"]
    if isinstance(spec, dict) and spec.get("run"):
        api_server = request.getfixturevalue("api_server")
        kubeconfig = api_server.kubeconfig("alice")

        async def run() -> str:
            printed = []
            async with console_run(line, kubeconfig=kubeconfig, home=tmp_path / "home", stdin=stdin) as running:
                async for chunk in running:
                    printed.append(chunk.text)
            return "".join(printed)

        output = run_apart(run())
        assert expect["output"] in output, output
    if absent:
        assert not Path(absent).exists(), f"{absent} appeared: a shell ran the line"
