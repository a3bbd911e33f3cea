"""The compose stack for real (`make compose-smoke`): the app image built from a clean checkout,
docker-compose.yml brought up with Debian's docker-compose, every part healthy, a learner's flow
over HTTP and kubectl through the Docker API proxies, the proxies refusing what the app never
asks, then everything torn down. No registry answers here, so the base, Redis and
PostgreSQL images are local stand-ins (scripts/base-image); the compose file is the one users run.

Build, start and flow times go to var/artifacts/compose-smoke.json."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests import services
from tests.kubectl.conftest import Kubectl
from tests.system.stack import REPO, free_port, wait_for

pytestmark = [pytest.mark.system, pytest.mark.docker]

METRICS_TOKEN = secrets.token_urlsafe(16)
ARTIFACT = REPO / "var" / "artifacts" / "compose-smoke.json"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: nginx:1.27, ports: [{containerPort: 80}]}
"""


class Compose:
    """docker-compose on the repository's compose file, as a project of this run's own."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def __call__(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [services.command("docker-compose"), "-f", "docker-compose.yml", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check:
            assert result.returncode == 0, f"docker-compose {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result


def timed(figures: dict, key: str, action):
    started = time.monotonic()
    result = action()
    figures[key] = round(time.monotonic() - started, 1)
    return result


@pytest.fixture(scope="module")
def stack():
    services.docker_engine()
    figures: dict = {}
    made = timed(figures, "local_images_s", lambda: subprocess.run(["scripts/base-image"], cwd=REPO, check=False))
    assert made.returncode == 0, "scripts/base-image failed (its output is above)"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "TUTOR_"))},
        "COMPOSE_PROJECT_NAME": f"kube-tutor-smoke-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "PORT": str(port),
        "BASE_IMAGE": "kube-tutor-base:trixie",
        "REDIS_IMAGE": "kube-tutor-redis:local",
        "POSTGRES_IMAGE": "kube-tutor-postgres:local",
        "BUILD_NETWORK": "host",
        "DOCKER_GID": str(Path("/var/run/docker.sock").stat().st_gid),
        "TUTOR_RUNTIME": "docker",
        "TUTOR_METRICS_TOKEN": METRICS_TOKEN,
    }
    compose = Compose(env)
    timed(figures, "build_s", lambda: compose("build", "--quiet", timeout=1200))
    try:
        timed(figures, "up_s", lambda: compose("up", "-d", timeout=600))
        url = f"http://127.0.0.1:{port}"
        timed(figures, "healthy_s", lambda: wait_for(lambda: healthy(url), timeout=240, what="/healthz all ok"))
        # Worker and beat run their first health check after its 30 s interval.
        timed(
            figures,
            "all_containers_healthy_s",
            lambda: wait_for(lambda: every_container_healthy(compose), timeout=240, what="every container healthy"),
        )
        yield compose, url, figures
    finally:
        logs = compose("logs", "--no-color", "--tail", "200", check=False).stdout
        (REPO / "var" / "artifacts").mkdir(parents=True, exist_ok=True)
        (REPO / "var" / "artifacts" / "compose-smoke.log").write_text(logs)
        # What the worker started for sandboxes lives in the engine, outside the compose project.
        # The kubelets stop first, or they make again what is being removed (pods left running on
        # the engine after the stack was gone); the cleaning runs in a one-off container of the
        # worker's service, the one whose Docker API proxy lets removals through.
        compose("stop", "beat", "worker", check=False, timeout=120)
        clean = ("run", "--rm", "--no-deps", "-T", "worker", "python", "manage.py", "sandbox", "clean-engine")
        compose(*clean, check=False, timeout=180)
        timed(figures, "down_s", lambda: compose("down", "--volumes", "--remove-orphans", timeout=300))
        ARTIFACT.write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps({"compose_smoke": figures}))


def healthy(url: str) -> bool:
    try:
        report = requests.get(f"{url}/healthz", timeout=5).json()
    except (requests.RequestException, ValueError):
        return False
    return report["status"] == "ok" and all(
        report[part] == "ok" for part in ("database", "broker", "worker", "runtime")
    )


SERVICES = ("web", "worker", "beat", "redis", "postgres", "docker-proxy", "docker-proxy-web")


def every_container_healthy(compose: Compose) -> bool:
    containers = [line for line in compose("ps").stdout.splitlines() if re.match(r"\S+_\d+ ", line)]
    every_service = all(any(f"_{service}_1 " in line for line in containers) for service in SERVICES)
    return every_service and all("(healthy)" in line for line in containers)


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_every_service_is_healthy_and_the_app_logs_json_lines(stack):
    compose, _, _ = stack
    assert every_container_healthy(compose), compose("ps").stdout
    workers = [line for line in compose("ps").stdout.splitlines() if re.match(r"\S+_worker_\d+ ", line)]
    assert len(workers) == 2, workers  # one worker process per core (docker-compose.yml)
    for service, logger in (("web", "uvicorn.error"), ("worker", "celery.worker.consumer.connection")):
        lines = compose("logs", "--no-color", "--no-log-prefix", service).stdout.splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        assert any(r["logger"] == logger and r["level"] == "INFO" and r["time"] for r in records), lines[-20:]


def test_the_stack_serves_a_learner_from_sign_up_to_kubectl(stack, tmp_path):
    _, url, figures = stack
    report = requests.get(f"{url}/healthz", timeout=5).json()
    assert (report["database_vendor"], report["broker_transport"]) == ("postgresql", "redis"), report
    assert report["runtime_kind"] == "docker", report
    # Static files are served by the app itself (whitenoise), by their hashed names; DEBUG is off.
    home = requests.get(url, timeout=30)
    assert home.status_code == 200
    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', home.text)
    assert stylesheets, home.text[:1000]
    assert requests.get(url + stylesheets[0], timeout=10).status_code == 200
    missing = requests.get(f"{url}/no-such-page", timeout=10)
    assert missing.status_code == 404
    assert "Traceback" not in missing.text

    learner = requests.Session()
    started = time.monotonic()
    token = csrf(learner, f"{url}/accounts/signup/")
    password = secrets.token_urlsafe(12)
    signed_up = learner.post(
        f"{url}/accounts/signup/",
        data={"csrfmiddlewaretoken": token, "username": "learner1", "password1": password, "password2": password},
        timeout=30,
    )
    assert signed_up.status_code == 200, signed_up.text[:1000]
    assert "sessionid" in learner.cookies, signed_up.text[:1000]
    headers = {"X-CSRFToken": learner.cookies["csrftoken"], "Referer": url}

    if not learner.get(f"{url}/api/sandboxes/", timeout=30).json():
        created = learner.post(f"{url}/api/sandboxes/", json={"name": "default"}, headers=headers, timeout=60)
        assert created.status_code == 201, created.text
    sandbox = learner.get(f"{url}/api/sandboxes/default/", timeout=30).json()
    assert sandbox["engine"] == "docker", sandbox

    applied = learner.post(
        f"{url}/api/sandboxes/default/apply/", json={"manifest": DEPLOYMENT}, headers=headers, timeout=60
    )
    assert applied.status_code == 200, applied.text
    assert [r["result"] for r in applied.json()["results"]] == ["created"]

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(learner.get(f"{url}/api/sandboxes/default/kubeconfig/", timeout=30).text)
    kubectl = Kubectl(kubeconfig=kubeconfig, home=tmp_path, namespace="default")
    kubectl("rollout", "status", "deployment/web", "--timeout=180s", timeout=200)
    pods = kubectl.json("get", "pods", "-l", "app=web")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Running", "Running"], pods
    figures["learner_flow_s"] = round(time.monotonic() - started, 1)
    # The pods are real containers the worker started, and answer from inside the sandbox.
    answer = kubectl("exec", pods[0]["metadata"]["name"], "--", "wget", "-qO-", "http://localhost/")
    assert pods[0]["metadata"]["name"] in answer.stdout
    # stdin to its end: the exec's stream stays open through the proxy once its input is closed.
    counted = kubectl("exec", "-i", pods[1]["metadata"]["name"], "--", "wc", "-c", input="through the proxy\n")
    assert counted.stdout.strip() == "18", counted
    # Prometheus sees them too, with the stack's token.
    scraped = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    assert scraped.status_code == 200
    running = re.search(r'^kube_tutor_pods\{phase="Running"\} ([0-9.]+)$', scraped.text, re.MULTILINE)
    assert running, scraped.text[:2000]
    assert float(running.group(1)) >= 2
    assert requests.get(f"{url}/metrics", timeout=30).status_code == 403


# Run inside a container of the stack: each (proxy, method, path) asked, and the status it got
# ("unreachable" when the proxy's name does not even resolve there). Bodies are not JSON, so a
# call that a proxy let through by mistake would be refused by the engine itself (400), change
# nothing on the engine, and fail the test.
ASK = """
import json, sys, urllib.error, urllib.request
answers = []
for base, method, path in json.loads(sys.argv[1]):
    body = b"{" if method in ("POST", "PUT") else None
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            answers.append(response.status)
    except urllib.error.HTTPError as error:
        answers.append(error.code)
    except OSError:
        answers.append("unreachable")
print(json.dumps(answers))
"""
WORKER_PROXY, WEB_PROXY = "http://docker-proxy:2375", "http://docker-proxy-web:2375"
# What Kube Tutor never asks the engine for: swarm, secrets, plugins, the engine's own details,
# pruning, pushing, listing and committing images, reading files out of a container, changing a
# container's limits, a build context or an imported image fetched by the engine from a URL.
NEVER_ASKED = [
    ("POST", "/v1.41/swarm/init"),
    ("GET", "/v1.41/secrets"),
    ("POST", "/v1.41/plugins/pull?remote=example.org/plugin"),
    ("GET", "/v1.41/info"),
    ("POST", "/v1.41/containers/prune?filters=%7B%22label%22%3A%5B%22kube-tutor.none%22%5D%7D"),
    ("POST", "/v1.41/images/kube-tutor/busybox/push"),
    ("GET", "/v1.41/images/json"),
    ("POST", "/v1.41/commit?container=none"),
    ("GET", "/v1.41/containers/none/archive?path=/etc"),
    ("POST", "/v1.41/containers/none/update"),
    ("POST", "/v1.41/build?remote=http://127.0.0.1:9/context.tar"),
    ("POST", "/v1.41/images/create?fromSrc=http://127.0.0.1:9/rootfs.tar"),
]


def proxies_answer(compose: Compose, service: str, expected: dict[tuple[str, str, str], int | str]) -> dict:
    """What the proxies answered `service`'s calls, by call, to compare with `expected`."""
    calls = list(expected)
    asked = compose("exec", "-T", service, "python", "-c", ASK, json.dumps(calls), timeout=120)
    return dict(zip(calls, json.loads(asked.stdout), strict=True))


def inspect(container: str) -> dict:
    found = subprocess.run([services.command("docker"), "inspect", container], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return json.loads(found.stdout)[0]


def test_only_the_proxies_hold_the_docker_socket_and_read_only(stack):
    compose, _, _ = stack
    holders = {}
    for container in compose("ps", "-q").stdout.split():
        inspected = inspect(container)
        for mount in inspected["Mounts"]:
            if mount["Destination"].endswith("docker.sock"):
                holders[inspected["Config"]["Labels"]["com.docker.compose.service"]] = mount["RW"]
    assert holders == {"docker-proxy": False, "docker-proxy-web": False}


def test_the_worker_s_proxy_refuses_what_the_app_never_asks(stack):
    compose, _, _ = stack
    expected: dict = {(WORKER_PROXY, method, path): 403 for method, path in NEVER_ASKED}
    expected |= {(WORKER_PROXY, "GET", "/_ping"): 200, (WORKER_PROXY, "GET", "/v1.41/containers/json"): 200}
    assert proxies_answer(compose, "worker", expected) == expected


def test_the_web_proxy_lets_web_exec_into_pods_only_and_make_no_container(stack):
    """Web gets less than the worker: no container, image or volume of its own, nothing written
    into a container, and exec or attach into pods' containers only, never into another container
    of the engine (this proxy's own holds the socket). The worker's proxy is not on its network."""
    compose, _, _ = stack
    proxy = inspect(compose("ps", "-q", "docker-proxy-web").stdout.strip())
    refused = [
        *NEVER_ASKED,
        ("POST", "/v1.41/containers/create"),
        ("POST", "/v1.41/build"),
        ("POST", "/v1.41/images/create?fromImage=busybox&tag=latest"),
        ("POST", "/v1.41/volumes/create"),
        ("PUT", "/v1.41/containers/none/archive?path=/"),
        ("POST", "/v1.41/containers/k8s_none/start"),
        ("DELETE", "/v1.41/containers/k8s_none"),
        ("POST", f"/v1.41/containers/{proxy['Id']}/exec"),
        ("POST", f"/v1.41/containers/{proxy['Name'].lstrip('/')}/exec"),
        ("POST", f"/v1.41/containers/{proxy['Name'].lstrip('/')}/attach"),
        ("GET", f"/v1.41/containers/{proxy['Id']}/json"),
    ]
    expected: dict = {(WEB_PROXY, method, path): 403 for method, path in refused}
    expected |= {(WEB_PROXY, "GET", "/_ping"): 200, (WEB_PROXY, "GET", "/v1.41/containers/json"): 200}
    expected[(WORKER_PROXY, "GET", "/_ping")] = "unreachable"
    assert proxies_answer(compose, "web", expected) == expected
