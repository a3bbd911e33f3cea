"""The instructor's dashboard for a class of `--learners` (50), measured on a whole stack (web,
worker, beat as `make run` starts them) with real HTTP and real Chromium (issue 12).

The class: one instructor, `--learners` learners who joined with the class's code (each gets the
class's sandbox, with its ResourceQuota and LimitRange), `--pods` (20) pods in each sandbox,
written through `clusters.store` as a learner's `kubectl apply` would and run by the simulated
runtime (the scheduler binds them, each node's kubelet starts them and writes their status): most
Running and Ready (nginx, busybox `sleep`), one Completed, and in every fifth sandbox a crash
loop, in every fifth another an image that cannot be pulled (they keep retrying, as in a class).
Progress rows as learners leave them: the first lesson passed by most, some working on their
current step, a few stuck (failing longer than the class's `stuck minutes`).

- `dashboard_ms`: server time of GET /classrooms/<id>/ as the instructor, the HTTP round trip on
  loopback of a logged-in GET, p50 / p95 (target p95 <= 150 ms).
- `sse_draw_ms`: what the dashboard's stream does when one learner's sandbox changes, timed in
  this process: judge that learner's current lesson again, build the grid, render its rows and
  keep the changed ones (the stream's `draw`); and its first draw (the whole grid).
- `streams_per_tab`: the EventSource connections the dashboard's tab opens in Chromium, counted
  by wrapping `window.EventSource` and by the tab's network requests (must be 1).
- `live_update_ms`: a write in one learner's sandbox that passes their current step (the pod
  `hello` of lesson 2's first step created, bound and given a Running and Ready status as the
  scheduler and the kubelet write them, in one transaction through `clusters.store`; with
  `--live-write runtime`, created only, and run by the simulated runtime) until that learner's
  cell shows "passed" in Chromium (a MutationObserver stamps the moment), p50 / p95 (target
  <= 1000 ms); split into the write to the stream's event arriving in the tab, and the swap.

Usage: .venv/bin/python bench/dashboard.py [--database sqlite|postgresql] [--broker embedded|redis]
Prints one JSON object. Needs Debian's Chromium (/usr/bin/chromium) and, for Redis or
PostgreSQL, the test services (scripts/test-services up, then source its env file).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import sys
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import MachineLoad, ReadyPoller, add_stack_options, bench_stack, database_for, stack_env, summary
from bench.learner_pages import CHROMIUM, CHROMIUM_ARGS, Browserless
from tests.system.stack import OUTER_SERVICE_VARIABLES

INSTRUCTOR, PASSWORD = "bench-instructor", "bench-instructor-pass"
TRIAL_LESSON, TRIAL_STEP = "pods", "first-pod"  # its check: pod `hello` is Running and Ready
TARGETS = {"dashboard_p95_ms": 150, "streams_per_tab": 1, "live_update_p95_ms": 1000}

# Counts the EventSource connections the tab opens (and closes), and the grid events each brings.
INIT_JS = """(() => {
  const Native = window.EventSource;
  window.__streams = {opened: 0, closed: 0, urls: [], sources: [], gridEvents: 0};
  class Counted extends Native {
    constructor(url, options) {
      super(url, options);
      window.__streams.opened += 1;
      window.__streams.urls.push(String(url));
      window.__streams.sources.push(this);
      this.addEventListener('grid', () => { window.__streams.gridEvents += 1; });
    }
    close() { window.__streams.closed += 1; super.close(); }
    // Every listener (htmx's swaps) runs after the hooks of window.__arrival, which stamp when
    // an event arrived, before it is swapped in.
    addEventListener(type, listener, options) {
      const hooked = event => {
        for (const hook of window.__arrival) hook(event);
        return typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event);
      };
      super.addEventListener(type, hooked, options);
    }
  }
  window.__arrival = [];
  window.EventSource = Counted;
})();"""

# For one learner: stamps when the stream's event that passes their cell arrives (eventAt) and
# when the cell shows "passed" in the DOM (seenAt), as performance.timeOrigin + now (epoch ms).
WATCH_JS = """({learner, index}) => {
  window.seenAt = window.seenAt || {};
  window.eventAt = window.eventAt || {};
  const now = () => performance.timeOrigin + performance.now();
  const cell = () => {
    const row = document.getElementById('row-' + learner);
    return row ? row.querySelectorAll('td.cell')[index] : null;
  };
  const passed = () => { const c = cell(); return !!c && c.classList.contains('state-passed'); };
  if (!cell()) return 'no such cell';
  if (passed()) return 'already passed';
  const before = (document.getElementById('row-' + learner).outerHTML.match(/state-passed/g) || []).length;
  const pattern = new RegExp('id="row-' + learner + '"[^]*?</tr>');
  window.__arrival.push(e => {
    if (window.eventAt[learner] || (e.type !== 'grid' && e.type !== 'row-' + learner)) return;
    const row = e.type === 'grid' ? ((e.data.match(pattern) || [''])[0]) : e.data;
    if ((row.match(/state-passed/g) || []).length > before) window.eventAt[learner] = now();
  });
  const observer = new MutationObserver(() => {
    if (passed()) { observer.disconnect(); window.seenAt[learner] = now(); }
  });
  observer.observe(document.getElementById('grid'), {childList: true, subtree: true, attributes: true});
  return 'watching';
}"""


# --- the class ------------------------------------------------------------------------------------


def container(index: int) -> tuple[dict, dict]:
    """(pod labels, pod spec) of the index-th pod of a sandbox: web servers and sleepers."""
    if index < 10:
        web = {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
        return {"app": "web"}, {"containers": [web]}
    sleeper = {"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}
    return {"app": "worker"}, {"containers": [sleeper]}


def pods_of(sandbox_index: int, count: int) -> list[dict]:
    """The sandbox's pods: Running ones, one that completes, and every fifth sandbox a crash
    loop (every fifth another an image typo) as its last."""
    bodies = []
    for index in range(count):
        labels, spec = container(index)
        if index == count - 2:
            labels = {"app": "batch"}
            spec = {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox:1.36", "command": ["echo", "done"]}],
            }
        elif index == count - 1 and sandbox_index % 5 == 0:
            labels = {"app": "broken"}
            spec = {"containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"]}]}
        elif index == count - 1 and sandbox_index % 5 == 1:
            labels = {"app": "typo"}
            spec = {"containers": [{"name": "web", "image": "ngnix:1.27"}]}
        metadata = {"name": f"{labels['app']}-{index:02d}", "labels": labels}
        bodies.append({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})
    return bodies


def ready_expected(learners: int, pods: int) -> int:
    return sum(pods - 1 - (1 if index % 5 in (0, 1) else 0) for index in range(learners))


def progress_plan(index: int) -> tuple[dict[tuple[str, str], str], bool]:
    """A learner's progress rows as {(lesson, step): "passed" | "failing" | "stuck"}, and
    whether their current step is lesson 2's first one (they can take a trial)."""
    group = index % 10
    plan: dict[tuple[str, str], str] = {}

    def lesson(slug: str, steps: list[str], passed: int, current: str = "failing") -> None:
        for position, step in enumerate(steps):
            plan[(slug, step)] = "passed" if position < passed else (current if position == passed else "failing")

    cluster = ["nodes", "desired-state", "scale", "stop-kubelet", "start-kubelet", "clean-up"]
    pods = ["first-pod", "two-containers", "more-pods", "delete-one"]
    if group <= 3:  # working on lesson 2's first pod
        lesson("cluster", cluster, 6)
        lesson("pods", pods, 0)
    elif group <= 5:  # further in lesson 2; one in ten stuck there
        lesson("cluster", cluster, 6)
        lesson("pods", pods, 2, "stuck" if group == 5 else "failing")
    elif group <= 7:  # stuck in lesson 1
        lesson("cluster", cluster, 2, "stuck")
    elif group == 8:  # ahead of the class
        lesson("cluster", cluster, 6)
        lesson("pods", pods, 4)
        lesson("services", ["service", "pods-arrive", "scale", "not-ready", "clean-up"], 5)
        lesson("volumes", ["ephemeral", "crash", "empty-dir", "empty-dir-restart", "claim", "outlives"], 1)
    else:  # just started
        lesson("cluster", cluster, 1)
    return plan, group <= 3


MESSAGES = {
    ("cluster", "desired-state"): "expected 4 pods labelled app=welcome to be Running and Ready, found 0",
    ("cluster", "scale"): "expected 6 pods labelled app=welcome to be Running and Ready, found 4",
    ("pods", "first-pod"): "pod hello does not exist in namespace default yet",
    ("pods", "more-pods"): "expected 3 pods labelled app=hello to be Running and Ready, found 1",
}


def class_seed(options) -> dict:
    """The instructor, the class, its learners with their sandboxes, pods and progress rows."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from clusters import store
    from clusters.objects.resources import resource_for_kind
    from tutor.classrooms import services
    from tutor.lessons.models import StepProgress

    instructor = User.objects.create_user(INSTRUCTOR, None, PASSWORD)
    services.make_instructor(instructor)
    # The class's limits leave room for the seeded pods and the trials' pod.
    classroom = services.classroom_create(
        instructor=instructor, name="Bench class", max_pods=options.pods + 10, cpu="64", memory="64Gi"
    )
    resource = resource_for_kind("v1", "Pod")
    now = timezone.now()
    learners, trial_learners, rows = [], [], []
    for index in range(options.learners):
        # No password: the learners never log in here, and hashing one costs half a second each.
        learner = User.objects.create_user(f"learner{index:03d}")
        enrollment = services.classroom_join(learner=learner, code=classroom.join_code)
        with store.writing_as("kubectl apply"):
            store.objects_create(
                sandbox=enrollment.sandbox, resource=resource, bodies=pods_of(index, options.pods), namespace="default"
            )
        plan, trial = progress_plan(index)
        for (lesson, step), state in plan.items():
            minutes = random.uniform(30, 90)  # noqa: S311 - passed a while ago
            row = StepProgress(user=learner, lesson=lesson, step=step)
            if state == "passed":
                row.passed_at = now - timedelta(minutes=minutes)
            else:
                failing = 20 if state == "stuck" else random.uniform(0.5, 3)  # noqa: S311
                row.failing_since = now - timedelta(minutes=failing)
                row.last_message = MESSAGES.get((lesson, step), "")
            rows.append(row)
        learners.append({"id": learner.pk, "sandbox": enrollment.sandbox_id})
        if trial:
            trial_learners.append(learner.pk)
    with transaction.atomic():
        StepProgress.objects.bulk_create(rows)
        # Passed steps moved when they passed: the learner's current lesson moved last.
        StepProgress.objects.filter(passed_at__isnull=False).update(updated_at=F("passed_at"))
    return {"classroom": classroom.pk, "learners": learners, "trial_learners": trial_learners}


def cell_index(lesson: str, step: str) -> int:
    from tutor.lessons.loader import catalog

    keys = [(item.slug, s.id) for item in catalog().lessons for s in item.checked_steps]
    return keys.index((lesson, step))


# --- the write that passes a learner's step -------------------------------------------------------


def step_pass(sandbox_id: int, *, mode: str) -> None:
    """Lesson 2's first step passed in this sandbox: pod `hello` (the lesson's manifest) created
    and, unless the runtime is to run it, bound and given a Running, Ready status as the scheduler
    and the kubelet write them (copied from a running nginx pod of the same sandbox), in one
    transaction."""
    import yaml
    from django.db import transaction
    from django.utils import timezone

    from clusters import store
    from clusters.models import Sandbox, StoredObject
    from clusters.objects.resources import resource_for_kind
    from clusters.objects.times import format_time
    from tutor.lessons.loader import catalog

    sandbox = Sandbox.objects.get(pk=sandbox_id)
    resource = resource_for_kind("v1", "Pod")
    body = yaml.safe_load(catalog().get(TRIAL_LESSON).step(TRIAL_STEP).manifest)
    if mode == "runtime":
        with store.writing_as("kubectl create"):
            store.object_create(sandbox=sandbox, resource=resource, body=body, namespace="default")
        return
    pods = StoredObject.objects.filter(sandbox=sandbox, api_group="", kind="Pod", namespace="default")
    sibling = pods.get(name="web-00").body
    node = sibling["spec"]["nodeName"]
    scheduled = next(c for c in sibling["status"]["conditions"] if c["type"] == "PodScheduled")
    status = copy.deepcopy(sibling["status"])
    started = format_time(timezone.now())
    status["startTime"] = started
    for condition in status["conditions"]:
        condition["lastTransitionTime"] = started
    for container_status in status.get("containerStatuses") or []:
        container_status["state"] = {"running": {"startedAt": started}}
        container_status["containerID"] = f"simulated://hello-{time.time_ns()}"
    with transaction.atomic():
        with store.writing_as("kubectl create"):
            store.object_create(sandbox=sandbox, resource=resource, body=body, namespace="default")
        with store.writing_as("default-scheduler", f"assigned default/hello to {node}"):
            bound = store.pod_bind(
                sandbox=sandbox,
                namespace="default",
                name="hello",
                node=node,
                conditions=[{**scheduled, "lastTransitionTime": started}],
                resource_version=None,
            )
        with store.writing_as(f"kubelet/{node}", "containers started"):
            store.object_update(
                sandbox=sandbox,
                resource=resource,
                namespace="default",
                name="hello",
                body={**bound, "status": status},
                subresource="status",
            )


# --- the stream's draw, in this process -----------------------------------------------------------


def draws_time(classroom_id: int, learners: list[dict], count: int) -> dict:
    """The dashboard stream's draw (tutor.classrooms.dashboard.dashboard_events) when one
    learner's sandbox changed: their lesson judged again, the grid built, rows rendered and
    compared with those sent; the first draw of a stream renders the whole grid."""
    from django.utils import translation

    from tutor.classrooms.dashboard import _parts, grid_context, learner_judge
    from tutor.classrooms.models import Classroom

    classroom = Classroom.objects.get(pk=classroom_id)
    filters = {"lesson": "", "state": "", "sort": "name"}

    def draw(state: dict, learner: dict | None) -> float:
        started = time.perf_counter()
        dict(classroom.enrollments.exclude(sandbox=None).values_list("sandbox_id", "learner_id"))
        if learner is not None:
            learner_judge(learner["id"], learner["sandbox"])
        with translation.override("en"):
            context = grid_context(classroom, filters=filters, language="en")
            _parts(context, state)
        return (time.perf_counter() - started) * 1000

    first = []
    for _ in range(5):
        first.append(draw({"rows": {}, "order": None, "summary": None, "mark": None}, None))
    state = {"rows": {}, "order": None, "summary": None, "mark": None}
    draw(state, None)
    one = [draw(state, learners[index % len(learners)]) for index in range(count + 3)][3:]
    return {"one_learner_changed": summary(one), "first_draw_whole_grid": summary(first)}


# --- the run --------------------------------------------------------------------------------------


def django_setup(env: dict[str, str]) -> None:
    """This process on the stack's database, as its processes are (for seeding, the trials'
    writes and timing the stream's draw)."""
    for name in OUTER_SERVICE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tutor.settings"
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()


class Session(Browserless):
    def log_in_as(self, username: str, password: str) -> None:
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1].decode()
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        status, _ = self.request(
            "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"logging in answered {status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=50, help="learners in the class")
    parser.add_argument("--pods", type=int, default=20, help="pods in each learner's sandbox")
    parser.add_argument("--page-loads", type=int, default=40, help="GETs of the dashboard measured (>= 30)")
    parser.add_argument("--draws", type=int, default=30, help="stream draws timed in this process")
    parser.add_argument("--trials", type=int, default=12, help="steps passed, timed to the grid in Chromium")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds for the last status writes once all are Ready"
    )
    parser.add_argument(
        "--live-write",
        choices=["status", "runtime"],
        default="status",
        help="status: the pod written Running and Ready as the kubelet would; runtime: created, run by the runtime",
    )
    add_stack_options(parser)
    parser.set_defaults(broker="embedded")
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    env = stack_env(options, TUTOR_RUNTIME="simulated")

    from playwright.sync_api import sync_playwright

    with bench_stack(database=database, broker=options.broker, extra_env=env, keep=options.keep) as bench:
        bench.static_collect()
        django_setup(bench.stack.env)
        started = time.monotonic()
        seeded = class_seed(options)
        seed_seconds = time.monotonic() - started
        bench.start(workers=options.workers, concurrency=options.concurrency)
        poller = ReadyPoller(bench.stack, interval=0.25)
        poller.start()
        expected = ready_expected(options.learners, options.pods)
        started = time.monotonic()
        if not poller.wait_for(expected, timeout=600):
            raise RuntimeError(f"only {len(poller.ready)} of {expected} pods became Ready")
        ready_seconds = time.monotonic() - started
        poller.stop()
        time.sleep(options.settle)  # the last kubelet runs' status writes and Events settle

        from clusters.snapshot import pod_phases

        phases: dict[str, int] = {}
        for counts in pod_phases(learner["sandbox"] for learner in seeded["learners"]).values():
            for phase, count in counts.items():
                phases[phase] = phases.get(phase, 0) + count

        load = MachineLoad()
        classroom = seeded["classroom"]
        path = f"/classrooms/{classroom}/"
        session = Session(bench.port)
        session.log_in_as(INSTRUCTOR, PASSWORD)
        status, page = session.request("GET", path)
        rows_drawn = page.count(b'<tr id="row-')
        if status != 200 or rows_drawn != options.learners:
            raise RuntimeError(f"the dashboard answered {status} with {rows_drawn} rows")
        for _ in range(3):
            session.timed_get(path)  # warm
        dashboard = [session.timed_get(path) for _ in range(options.page_loads)]
        draws = draws_time(classroom, seeded["learners"], options.draws)

        index = cell_index(TRIAL_LESSON, TRIAL_STEP)
        sandbox_of = {learner["id"]: learner["sandbox"] for learner in seeded["learners"]}
        trial_learners = seeded["trial_learners"][: options.trials + 2]
        live, stream_delay, swap, requests = [], [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context()
            context.add_cookies(
                [{"name": k, "value": v, "url": f"http://127.0.0.1:{bench.port}"} for k, v in session.cookies.items()]
            )
            context.add_init_script(INIT_JS)
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url) if r.resource_type == "eventsource" else None)
            page.goto(f"http://127.0.0.1:{bench.port}{path}")
            # The stream's first look at progress draws the whole grid once; trials start after it.
            page.wait_for_function("() => window.__streams.gridEvents >= 1", timeout=30_000)
            for number, learner in enumerate(trial_learners):
                answer = page.evaluate(WATCH_JS, {"learner": learner, "index": index})
                if answer != "watching":
                    raise RuntimeError(f"learner {learner}'s cell: {answer}")
                time.sleep(0.5 + random.random() * 0.5)  # noqa: S311 - spread over the feed's poll phases
                written = time.time() * 1000
                step_pass(sandbox_of[learner], mode=options.live_write)
                page.wait_for_function(f"() => window.seenAt[{learner}]", timeout=20_000)
                seen, arrived = page.evaluate(f"() => [window.seenAt[{learner}], window.eventAt[{learner}]]")
                if number >= 2:  # the first two warm the stream
                    live.append(seen - written)
                    if arrived:
                        stream_delay.append(arrived - written)
                        swap.append(seen - arrived)
            time.sleep(2)
            streams = page.evaluate("() => ({opened: window.__streams.opened, closed: window.__streams.closed})")
            rows_in_tab = page.evaluate("() => document.querySelectorAll('#grid tr[id^=row-]').length")
            browser.close()

        stream_requests = [url for url in requests if "/stream" in url]
        live_summary = summary(live)
        dashboard_summary = summary(dashboard)
        print(
            json.dumps(
                {
                    "benchmark": "dashboard",
                    "database": database,
                    "broker": options.broker,
                    "class": {
                        "learners": options.learners,
                        "pods_per_sandbox": options.pods,
                        "pods_by_phase": phases,
                        "pods_run_by": "simulated runtime (scheduler and kubelets of the stack's worker)",
                        "seed_seconds": round(seed_seconds, 1),
                        "pods_ready_seconds": round(ready_seconds, 1),
                        "checked_steps_per_row": len(
                            [s for lesson in _catalog().lessons for s in lesson.checked_steps]
                        ),
                    },
                    "dashboard_ms": dashboard_summary,
                    "sse_draw_ms": draws,
                    "streams_per_tab": {
                        "event_sources_opened": streams["opened"],
                        "event_sources_closed": streams["closed"],
                        "eventsource_requests": len(stream_requests),
                        "rows_in_tab": rows_in_tab,
                    },
                    "live_update_ms": live_summary,
                    "live_update_split_ms": {
                        "write_to_stream_event": summary(stream_delay),
                        "event_to_dom": summary(swap),
                    },
                    "live_write": (
                        "pod hello created, bound and given a Running, Ready status in one transaction through"
                        " clusters.store, as kubectl, the scheduler and the kubelet write them"
                        if options.live_write == "status"
                        else "pod hello created through clusters.store; the simulated runtime runs it"
                    ),
                    "targets": TARGETS,
                    "met": {
                        "dashboard_p95_ms": dashboard_summary["p95"] <= TARGETS["dashboard_p95_ms"],
                        "streams_per_tab": streams["opened"] == 1 and len(stream_requests) == 1,
                        "live_update_p95_ms": bool(live) and live_summary["p95"] <= TARGETS["live_update_p95_ms"],
                    },
                    "machine": load.report(),
                },
                indent=1,
            )
        )


def _catalog():
    from tutor.lessons.loader import catalog

    return catalog()


if __name__ == "__main__":
    main()
