"""Every step of every lesson, walked as a learner would, on both runtimes, so a lesson cannot rot.

A stack as `make run` starts it (web, worker, beat) and `manage.py lessons walk`: each step's
manifest applied as the page applies it, its commands run with the real kubectl, its fault
pressed, its check awaited while the workers reconcile, and its words and check rendered in
English and Korean. All lessons run in order in one sandbox, as one learner takes them. Nodes
are given short grace periods so the node-failure steps take seconds, not minutes. The step
times are kept in var/artifacts/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests import services
from tests.system.stack import REPO, Stack, free_port, wait_for
from tutor.lessons.loader import load_catalog

pytestmark = pytest.mark.system
SETTINGS = {
    "TUTOR_FAST_BACKOFF": "1",
    "TUTOR_RESYNC_INTERVAL": "5",
    "TUTOR_NODE_GRACE_SECONDS": "10",
    "TUTOR_POD_EVICTION_SECONDS": "10",
}


def walk(root: Path, runtime: str) -> list[dict]:
    stack = Stack(root=root, extra_env={**SETTINGS, "TUTOR_RUNTIME": runtime})
    assert stack.manage("migrate", "--noinput").returncode == 0
    created = stack.manage("sandbox", "create", "--owner", "walker", "--runtime", runtime, "--fast-backoff")
    assert created.returncode == 0, created.stderr
    port = free_port()
    stack.start(
        "web",
        [
            str(Path(sys.executable).with_name("uvicorn")),
            "tutor.asgi:application",
            "--ws",
            "wsproto",
            "--port",
            str(port),
        ],
    )
    stack.start_worker()
    stack.start_beat()
    try:
        wait_for(lambda: "Uvicorn running" in stack.log("web"), timeout=60, what="uvicorn")
        wait_for(lambda: " ready." in stack.log("worker"), timeout=60, what="the worker")
        walked = stack.manage(
            "lessons", "walk", "--owner", "walker", "--server", f"http://127.0.0.1:{port}", "--json", timeout=1500
        )
        assert walked.returncode == 0, f"{walked.stderr}\n--- walked so far:\n{walked.stdout}"
        return [json.loads(line) for line in walked.stdout.splitlines() if line.startswith("{")]
    finally:
        stack.stop_all()
        if runtime == "docker":
            removed = stack.manage("sandbox", "clean-engine")
            assert removed.returncode == 0, removed.stderr


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    "runtime",
    [
        pytest.param("simulated", marks=pytest.mark.xdist_group("walk-simulated")),
        pytest.param("docker", marks=[pytest.mark.docker, pytest.mark.xdist_group("walk-docker")]),
    ],
)
def test_every_step_of_every_lesson_walks_to_its_check(runtime, tmp_path):
    if runtime == "docker":
        services.docker_engine()
    steps = walk(tmp_path, runtime)
    lessons = load_catalog().lessons
    assert [(s["lesson"], s["step"]) for s in steps] == [
        (lesson.slug, step.id) for lesson in lessons for step in lesson.steps
    ]
    checked = {(lesson.slug, step.id) for lesson in lessons for step in lesson.checked_steps}
    assert all(s["message"] for s in steps if (s["lesson"], s["step"]) in checked)
    artifacts = REPO / "var" / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"lesson-walk-{runtime}.json").write_text(json.dumps(steps, indent=1))
