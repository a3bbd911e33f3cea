"""The learner's pages, measured on a whole stack (web, worker, beat) with real Chromium.

- Server time of the lesson page and the sandbox page, for a sandbox running a Deployment of
  `--pods` pods (20): the HTTP round trip on loopback of a logged-in GET, p50 / p95 (target p95
  <= 50 ms).
- API write to updated DOM: a pod created through the sandbox's Kubernetes API until its name is
  in the sandbox page's cluster view in Chromium (a MutationObserver stamps the moment), p50 /
  p95 (targets 150 / 300 ms). The clocks of this process and the browser are the same machine's.
- Console round trip: `kubectl get pods` typed in the page's console until its exit code shows,
  p50 (target <= 400 ms): the POST, the stream, the real kubectl against the sandbox, the DOM.

Usage: .venv/bin/python bench/learner_pages.py [--broker embedded|redis] [--database ...]
Prints one JSON object. Needs Debian's Chromium (/usr/bin/chromium) and, for Redis or
PostgreSQL, the test services (scripts/test-services up).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    Api,
    MachineLoad,
    add_stack_options,
    bench_stack,
    database_for,
    stack_env,
    summary,
)
from tests.system.stack import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
LEARNER, PASSWORD = "bench-learner", "bench-learner-pass"

# Stamps, in the page, when a pod of that name first shows in the cluster view (window.seenAt).
WATCH_JS = """name => {
  window.seenAt = window.seenAt || {};
  const seen = () => [...document.querySelectorAll('#cluster .pod .name')].some(e => e.textContent === name);
  const observer = new MutationObserver(() => {
    if (seen()) { observer.disconnect(); window.seenAt[name] = performance.timeOrigin + performance.now(); }
  });
  observer.observe(document.getElementById('cluster'), {childList: true, subtree: true});
}"""


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "dom"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    }


def deployment(replicas: int) -> dict:
    labels = {"app": "bench"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}},
        },
    }


class Browserless:
    """A logged-in session over plain HTTP (Django's login form), for the server-time figures."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data

    def log_in(self) -> None:
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1].decode()
        form = urllib.parse.urlencode({"username": LEARNER, "password": PASSWORD, "csrfmiddlewaretoken": token})
        status, _ = self.request(
            "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"logging in answered {status}")

    def timed_get(self, path: str) -> float:
        started = time.perf_counter()
        status, _ = self.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=20, help="pods running in the sandbox the pages show")
    parser.add_argument("--page-loads", type=int, default=100, help="GETs of each page measured")
    parser.add_argument("--writes", type=int, default=40, help="API writes timed to the DOM")
    parser.add_argument("--commands", type=int, default=20, help="console commands timed")
    add_stack_options(parser)
    parser.set_defaults(broker="embedded")
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    env = stack_env(options, TUTOR_RUNTIME="simulated", TUTOR_FAST_BACKOFF="1")

    from playwright.sync_api import sync_playwright

    with bench_stack(database=database, broker=options.broker, extra_env=env, keep=options.keep) as bench:
        made = bench.stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; from tutor.sandboxes.services import learner_sandbox; "
            f"user = User.objects.create_user({LEARNER!r}, None, {PASSWORD!r}); learner_sandbox(user=user)",
        )
        assert made.returncode == 0, made.stderr
        bench.static_collect()
        prefix = kube_prefix(bench)
        bench.start(workers=options.workers, concurrency=options.concurrency)
        api = Api(bench.port, prefix)
        api.call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment(options.pods))
        load = MachineLoad()

        session = Browserless(bench.port)
        session.log_in()
        wait_for(lambda: ready_pods(session) >= options.pods, timeout=120, what=f"{options.pods} pods ready")
        pages = {}
        for path in ("/lessons/pods/", "/sandboxes/default/", "/lessons/"):
            session.timed_get(path)  # warm
            pages[path] = summary([session.timed_get(path) for _ in range(options.page_loads)])

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context()
            context.add_cookies(
                [{"name": k, "value": v, "url": f"http://127.0.0.1:{bench.port}"} for k, v in session.cookies.items()]
            )
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{bench.port}/sandboxes/default/")
            page.wait_for_selector("#live-status[data-state=live]", timeout=20_000)
            dom = []
            for index in range(options.writes + 3):
                name = f"dom-{index}"
                page.evaluate(WATCH_JS, name)
                time.sleep(0.2 + random.random() * 0.1)  # noqa: S311 - spread over the feed's poll phases
                # A fresh connection, before the clock starts: keep-alive ends after 5 idle seconds.
                api.connection.close()
                api.connection.connect()
                written = time.time() * 1000
                api.call("POST", "/api/v1/namespaces/default/pods", pod(name))
                page.wait_for_function("name => window.seenAt[name]", arg=name, timeout=10_000)
                seen = page.evaluate("name => window.seenAt[name]", name)
                if index >= 3:  # the first few warm the stream
                    dom.append(seen - written)

            page.get_by_role("tab", name="Console").click()
            console = []
            for index in range(options.commands + 2):
                runs = page.locator("#console-output .run .end")
                before = runs.count()
                started = time.perf_counter()
                page.get_by_label("Command").fill("kubectl get pods")
                page.get_by_label("Command").press("Enter")
                page.wait_for_function(
                    f"() => document.querySelectorAll('#console-output .run .end').length > {before}", timeout=30_000
                )
                if index >= 2:
                    console.append((time.perf_counter() - started) * 1000)
            browser.close()

        print(
            json.dumps(
                {
                    "benchmark": "learner_pages",
                    "database": database,
                    "broker": options.broker,
                    "pods_in_sandbox": options.pods,
                    "page_server_time_ms": pages,
                    "api_write_to_dom_ms": summary(dom),
                    "console_get_pods_round_trip_ms": summary(console),
                    "targets": {
                        "page_p95_ms": 50,
                        "write_to_dom_p50_ms": 150,
                        "write_to_dom_p95_ms": 300,
                        "console_p50_ms": 400,
                    },
                    "machine": load.report(),
                },
                indent=1,
            )
        )


def kube_prefix(bench) -> str:
    """The learner's sandbox API prefix, with a token in the path (as an http kubeconfig has it)."""
    code = (
        "import yaml; from clusters.models import Sandbox; from clusters.sandboxes import kubeconfig_render; "
        f"s = Sandbox.objects.get(owner__username={LEARNER!r}); "
        f"print(yaml.safe_load(kubeconfig_render(sandbox=s, server='http://127.0.0.1:{bench.port}'))"
        "['clusters'][0]['cluster']['server'])"
    )
    done = bench.stack.manage("shell", "-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(f":{bench.port}", 1)[1]


def ready_pods(session: Browserless) -> int:
    _, page = session.request("GET", "/sandboxes/default/cluster")
    return page.count(b'class="pod status-running ready"')


if __name__ == "__main__":
    main()
