"""Two browser tabs and kubectl write the same Deployment at once (real Chromium, PostgreSQL).

Round after round, the sandbox page's Apply in two tabs of one learner and `kubectl apply` from
their computer send three versions of one Deployment together. Every version of every round has
values of its own in every field it sets (replicas, image, a label, an environment variable), so
each three-way patch carries all of its fields and any mix of two writers would show. What must
hold: no request ends in a server error; every write either lands whole or is refused with a
clear message; every version the change log ever held is one writer's whole version; and the
final object is valid and is the version of a writer of the last round, with that writer's
manifest as its last-applied configuration, as kubectl's three-way merge leaves it.

The same site, with tight limits for two of the rate limits, shows what a learner over a limit
sees: the login page's 429 page, and the console's message among its output (the 429 an htmx form
gets is swapped in by static/js/tutor.js), with no reload.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import services
from tests.kubectl.conftest import KUBECTL
from tests.system.stack import ScratchPostgres, Stack, free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.system, pytest.mark.xdist_group("concurrent-apply")]

ROUNDS = 4
WRITERS = ("tab-a", "tab-b", "kubectl")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def version(writer: str, round_: int) -> dict:
    """The Deployment as one writer sends it in one round: values no other (writer, round) has."""
    k = round_ * len(WRITERS) + WRITERS.index(writer) + 1
    labels = {"app": "shared"}
    container = {
        "name": "web",
        "image": f"nginx:1.{k}",
        "env": [{"name": "WRITTEN_BY", "value": f"{writer}-{round_}"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shared", "namespace": "default", "labels": {**labels, "writer": f"{writer}-{round_}"}},
        "spec": {
            "replicas": k,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def fingerprint(body: dict) -> tuple:
    """What tells the versions apart, read from a stored Deployment."""
    container = body["spec"]["template"]["spec"]["containers"][0]
    return (
        body["metadata"]["labels"].get("writer"),
        body["spec"]["replicas"],
        container["image"],
        tuple((e["name"], e.get("value")) for e in container.get("env", [])),
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The web (two uvicorn processes, so writes meet in the database) on PostgreSQL; no worker:
    nothing but the three writers writes the Deployment."""
    root = tmp_path_factory.mktemp("concurrent-apply")
    scratch = ScratchPostgres(services.postgres_url())
    # Tight limits for the login and console test; Apply's (30 a minute) is more than the rounds use.
    limits = {"TUTOR_RATE_LIMITS": "login-user=2/5m,console=2/m"}
    # Redis holds the limits' counts, as in production: with two web processes, counts kept in each
    # process's memory would let every other request through.
    stack = Stack(
        root=root,
        database_url=scratch.url,
        redis_url=services.redis_url(),
        extra_env={"TUTOR_RUNTIME": "simulated", **limits},
    )
    try:
        for command in (("migrate", "--noinput"), ("collectstatic", "--noinput", "-v", "0")):
            done = stack.manage(*command)
            assert done.returncode == 0, done.stderr
        made = stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; User.objects.create_user('ada', None, 'ada-pass-1')",
        )
        assert made.returncode == 0, made.stderr
        assert stack.manage("sandbox", "create", "--owner", "ada").returncode == 0
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = stack.manage("sandbox", "kubeconfig", "--owner", "ada", "--server", url)
        assert config.returncode == 0, config.stderr
        (root / "kubeconfig").write_text(config.stdout)
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        options = ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        stack.start("web", [uvicorn, "tutor.asgi:application", "--ws", "wsproto", *options])
        wait_for(lambda: stack.log("web").count("Application startup complete") >= 2, timeout=90, what="uvicorn")
        yield url, stack, scratch
    finally:
        stack.stop_all()
        scratch.drop()


def kubectl(stack: Stack, *args: str, input: str | None = None, background: bool = False):
    command = [KUBECTL, "--kubeconfig", str(stack.root / "kubeconfig"), "--cache-dir", str(stack.root / "cache"), *args]
    env = {"HOME": str(stack.root), "PATH": "/usr/bin:/bin"}
    if background:
        return subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    return subprocess.run(command, input=input, capture_output=True, text=True, timeout=60, check=False, env=env)


def open_tab(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(f"{url}/sandbox/")
    expect(page.locator("#manifest-editor")).to_be_attached()
    page.wait_for_function("() => document.getElementById('manifest-editor').kubeTutorEditor !== undefined")
    return page


def log_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_two_tabs_and_kubectl_writing_one_deployment_never_corrupt_it(context: BrowserContext, site):
    url, stack, scratch = site
    login = context.new_page()
    log_in(login, url, "ada", "ada-pass-1")
    expect(login.locator(".who")).to_have_text("ada")
    tabs = {"tab-a": open_tab(context, url), "tab-b": open_tab(context, url)}
    statuses: list[int] = []
    for tab in tabs.values():
        tab.on(
            "response", lambda response: statuses.append(response.status) if response.url.endswith("/apply") else None
        )
    first = kubectl(stack, "apply", "-f", "-", input=json.dumps(version("kubectl", 0)))
    assert first.returncode == 0, first.stderr

    landed: dict[int, set[str]] = {}
    for round_ in range(1, ROUNDS + 1):
        for writer, tab in tabs.items():
            tab.evaluate(
                "text => { document.getElementById('manifest-editor').kubeTutorEditor.setValue(text);"
                " document.getElementById('apply-result').innerHTML = ''; }",
                json.dumps(version(writer, round_), indent=2),
            )
        # All three at once. In odd rounds both tabs' Apply buttons are pressed the moment kubectl
        # has read the Deployment, so their writes land between kubectl's read and its patch
        # (computed from what it read); in even rounds they are pressed as kubectl starts.
        cli = kubectl(stack, "-v=6", "apply", "-f", "-", background=True)
        cli.stdin.write(json.dumps(version("kubectl", round_)))
        cli.stdin.close()
        log: list[str] = []
        if round_ % 2:
            for line in cli.stderr:
                log.append(line)
                if "GET" in line and "/deployments/shared" in line:
                    break
        for tab in tabs.values():
            tab.evaluate("() => document.querySelector('.editor-form button[type=submit]:not(.secondary)').click()")
        out, err = cli.stdout.read(), "".join(log) + cli.stderr.read()
        assert cli.wait(timeout=60) == 0 or "Operation cannot be fulfilled" in err, err
        landed[round_] = {"kubectl"} if "configured" in out else set()
        for writer, tab in tabs.items():
            result = tab.locator("#apply-result li")
            expect(result).to_have_count(1, timeout=20_000)
            outcome = result.get_attribute("class")
            assert outcome in ("configured", "error"), (writer, result.inner_text())
            if outcome == "configured":
                landed[round_].add(writer)
            else:  # refused, with words that say why
                assert "Operation cannot be fulfilled" in result.inner_text(), result.inner_text()
        assert landed[round_], f"round {round_}: no write landed"

    assert statuses, "no Apply was answered"
    assert set(statuses) == {200}, statuses
    got = kubectl(stack, "get", "deployment", "shared", "-o", "json")
    assert got.returncode == 0, got.stderr
    final = json.loads(got.stdout)
    # Valid as stored: the API server takes it back as it is.
    again = kubectl(stack, "replace", "--dry-run=server", "-f", "-", input=got.stdout)
    assert again.returncode == 0, again.stderr
    winners = {fingerprint(version(writer, ROUNDS)): writer for writer in landed[ROUNDS]}
    assert fingerprint(final) in winners, (fingerprint(final), winners)
    applied = json.loads(final["metadata"]["annotations"][LAST_APPLIED])
    assert applied["metadata"].pop("annotations", {}) == {}  # kubectl records an empty map
    assert applied == version(winners[fingerprint(final)], ROUNDS)
    # Every version the Deployment ever had was one writer's whole version, never a mix.
    every = {fingerprint(version(w, r)) for w in WRITERS for r in range(ROUNDS + 1)}
    with psycopg.connect(scratch.url) as conn:
        bodies = conn.execute(
            "SELECT body FROM clusters_change WHERE kind = 'Deployment' AND name = 'shared' ORDER BY resource_version"
        ).fetchall()
    history = [fingerprint(body) for (body,) in bodies]
    assert len(history) >= 1 + ROUNDS
    assert set(history) <= every, set(history) - every
    assert " 500 " not in stack.log("web")
    assert "Traceback" not in stack.log("web")


def test_over_a_limit_the_page_says_what_and_for_how_long(page: Page, site):
    url, _, _ = site
    for _ in range(2):
        log_in(page, url, "mallory", "guess")
        expect(page.get_by_role("alert")).to_contain_text("didn't match")
    log_in(page, url, "mallory", "guess")
    expect(page.get_by_role("heading", name="Too many requests")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many login attempts\. Try again in \d+ minutes\.$")
    )

    log_in(page, url, "ada", "ada-pass-1")  # another username is not held up
    expect(page.locator(".who")).to_have_text("ada")
    page.goto(f"{url}/sandbox/")
    page.get_by_role("tab", name="Console").click()
    command, output = page.get_by_label("Command"), page.locator("#console-output")
    for run in range(2):
        command.fill("kubectl get pods")
        command.press("Enter")
        expect(output.locator(".run .end")).to_have_count(run + 1, timeout=15_000)
    command.fill("kubectl get pods")
    command.press("Enter")
    expect(output.locator(".rate-limited")).to_have_text(
        re.compile(r"^You are running commands faster than the console allows\. Try again in \d+ seconds\.$")
    )
    expect(output.locator(".run .end")).to_have_count(2)  # what ran is still there
