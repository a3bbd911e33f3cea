"""The simulated runtime: catalog behaviours, the shell idioms learners use, the stage table, and
its state kept as JSON. (What every runtime must do is in tests/runtime/contract.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clusters.runtime import catalog
from clusters.runtime.base import PodRef, RuntimeError_, VolumeSpec
from clusters.runtime.simulated import MAX_LOG_LINES, ManualClock, SimulatedRuntime, Stage, StateVolumes, program_for

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POD = PodRef("sandbox", "default", "demo", "uid-demo", "node-1")


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def runtime(clock):
    made = SimulatedRuntime(clock, node="node-1", pod_cidr="10.244.1.0/24")
    made.pod_sandbox_ensure(POD, hostname="demo", volumes=[])
    return made


def start(runtime, image: str = "busybox:1.36", command=None, *, name="c", restart=0, env=None, **fields):
    runtime.image_pull(image, policy="IfNotPresent")
    container = {"name": name, "image": image, **({"command": command} if command else {}), **fields}
    return runtime.container_start(POD, container, restart=restart, env=env or {}, volumes=[])


def now_of(runtime, name: str = "c", restart: int = 0):
    return next(o for o in runtime.observe(node="node-1") if (o.name, o.restart) == (name, restart))


def lines(runtime, name: str = "c", restart: int = 0) -> list[str]:
    return [text for _, text in runtime.logs(POD, name, restart=restart, since=None)]


# -- shell idioms --------------------------------------------------------------------------------


def test_sleep_n_runs_n_seconds_then_exits_0(runtime, clock):
    started = start(runtime, command=["sleep", "5"])
    assert (started.state, started.changes_at) == ("running", T0 + timedelta(seconds=5))
    clock.advance(4.5)
    assert now_of(runtime).state == "running"
    clock.advance(0.5)
    done = now_of(runtime)
    assert (done.state, done.exit_code, done.reason, done.finished_at) == ("exited", 0, "Completed", clock())


def test_echo_logs_and_exits_0_and_exit_n_exits_n(runtime):
    assert start(runtime, command=["echo", "hello", "world"]).exit_code == 0
    assert lines(runtime) == ["hello world"]
    failed = start(runtime, command=["sh", "-c", "echo about to fail; exit 42"], name="failing")
    assert (failed.state, failed.exit_code, failed.reason) == ("exited", 42, "Error")
    assert lines(runtime, "failing") == ["about to fail"]


def test_echo_then_sleep_3600_logs_once_and_keeps_running(runtime, clock):
    started = start(runtime, command=["sh", "-c", "echo hi && sleep 3600"])
    assert lines(runtime) == ["hi"]
    clock.advance(3599)
    assert now_of(runtime).state == "running"
    assert started.changes_at == T0 + timedelta(seconds=3600)


def test_a_while_true_loop_runs_forever_logging_each_round(runtime, clock):
    start(runtime, command=["sh", "-c", 'while true; do echo "$(date) tick"; sleep 5; done'])
    clock.advance(12)
    observed = now_of(runtime)
    assert (observed.state, observed.changes_at) == ("running", None)  # nothing will ever change by itself
    assert lines(runtime) == [
        "Thu Nov 26 12:00:00 UTC 2026 tick",
        "Thu Nov 26 12:00:05 UTC 2026 tick",
        "Thu Nov 26 12:00:10 UTC 2026 tick",
    ]


def test_a_loop_looked_at_days_later_keeps_only_the_newest_lines(runtime, clock):
    start(runtime, command=["sh", "-c", "while true; do date; sleep 1; done"])
    clock.advance(3 * 86400)
    logged = runtime.logs(POD, "c", restart=0, since=None)
    assert len(logged) == MAX_LOG_LINES
    assert logged[-1] == (clock(), "Sun Nov 29 12:00:00 UTC 2026")


def test_a_counting_loop_plays_its_rounds_then_exits(runtime, clock):
    script = "i=0; while [ $i -lt 3 ]; do i=$((i+1)); echo count $i; sleep 1; done; exit 4"
    start(runtime, command=["sh", "-c", script])
    clock.advance(3)
    assert lines(runtime) == ["count 1", "count 2", "count 3"]
    assert now_of(runtime).exit_code == 4


@pytest.mark.parametrize(
    ("command", "code"),
    [(["false"], 1), (["true"], 0), (["cat"], 0), (["sh"], 0), (["sh", "-c", "true && false || exit 5"], 5)],
)
def test_short_commands_end_at_once_with_their_status(runtime, command, code):
    observed = start(runtime, command=command)
    assert (observed.state, observed.exit_code) == ("exited", code)


def test_a_shell_with_an_open_stdin_waits_for_input_forever(runtime):
    assert start(runtime, command=["sh"], stdin=True, tty=True).state == "running"
    assert start(runtime, command=["cat"], name="cat", stdin=True).state == "running"


def test_busybox_without_a_command_runs_sh_which_ends_at_once(runtime):
    observed = start(runtime)
    assert (observed.state, observed.exit_code, observed.reason) == ("exited", 0, "Completed")


def test_a_program_that_does_not_exist_fails_to_start_or_is_not_found_by_the_shell(runtime):
    direct = start(runtime, command=["python", "app.py"])
    assert (direct.state, direct.exit_code, direct.reason) == ("exited", 128, "StartError")
    assert 'exec: "python": executable file not found in $PATH' in direct.message
    assert direct.started_at == datetime(1970, 1, 1, tzinfo=UTC)
    via_shell = start(runtime, command=["sh", "-c", "python app.py"], name="sh")
    assert (via_shell.exit_code, lines(runtime, "sh")) == (127, ["sh: python: not found"])


def test_variables_hostname_and_env(runtime):
    start(runtime, command=["sh", "-c", "echo $GREETING from $(hostname); env"], env={"GREETING": "hello"})
    assert lines(runtime) == [
        "hello from demo",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME=demo",
        "GREETING=hello",
        "HOME=/root",
    ]


def test_dependent_environment_variables_expand_in_the_command(runtime):
    start(runtime, command=["echo", "$(MESSAGE)", "$(UNKNOWN)"], env={"MESSAGE": "expanded"})
    assert lines(runtime) == ["expanded $(UNKNOWN)"]


def test_files_from_volumes_can_be_read_and_run(runtime):
    config = VolumeSpec(
        "config", "files", files={"game.properties": "lives=3\nlevel=7\n", "run.sh": "echo from a script"}
    )
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[config])
    mounts = [{"name": "config", "mountPath": "/etc/config"}]
    start(runtime, command=["sh", "-c", "cat /etc/config/game.properties; ls /etc/config"], volumeMounts=mounts)
    assert lines(runtime) == ["lives=3", "level=7", "game.properties", "run.sh"]
    start(runtime, command=["sh", "/etc/config/run.sh"], name="script", volumeMounts=mounts)
    assert lines(runtime, "script") == ["from a script"]


# -- stop and SIGTERM ----------------------------------------------------------------------------


def test_a_web_server_exits_0_on_sigterm_and_a_shell_as_pid_1_waits_for_sigkill(runtime, clock):
    start(runtime, "nginx:1.27", name="web")
    start(runtime, command=["sleep", "3600"])
    runtime.container_stop(POD, "web", grace_seconds=30)
    runtime.container_stop(POD, "c", grace_seconds=30)
    web = now_of(runtime, "web")
    assert (web.state, web.exit_code, web.reason) == ("exited", 0, "Completed")
    sleeper = now_of(runtime)
    assert (sleeper.state, sleeper.changes_at) == ("running", T0 + timedelta(seconds=30))
    clock.advance(30)
    assert (now_of(runtime).exit_code, now_of(runtime).reason) == (137, "Error")


def test_a_stop_with_no_grace_kills_at_once_and_a_shorter_grace_wins(runtime, clock):
    start(runtime, command=["sleep", "3600"])
    runtime.container_stop(POD, "c", grace_seconds=30)
    clock.advance(1)
    runtime.container_stop(POD, "c", grace_seconds=0)
    assert (now_of(runtime).exit_code, now_of(runtime).finished_at) == (137, T0 + timedelta(seconds=1))


# -- catalog behaviours ----------------------------------------------------------------------------


def test_a_web_server_answers_probes_and_logs_one_line_per_request(runtime, clock):
    start(runtime, "nginx:1.27", name="web")
    clock.advance(3)
    assert runtime.probe(POD, "web", {"httpGet": {"path": "/", "port": 80}}).success
    missing = runtime.probe(POD, "web", {"httpGet": {"path": "/nope", "port": 80}})
    assert (missing.success, missing.message) == (False, "HTTP probe failed with statuscode: 404")
    assert lines(runtime, "web")[-2:] == [
        '10.244.1.1 - - [26/Nov/2026:12:00:03 +0000] "GET / HTTP/1.1" 200 615 "-" "kube-probe/1.37" "-"',
        '10.244.1.1 - - [26/Nov/2026:12:00:03 +0000] "GET /nope HTTP/1.1" 404 153 "-" "kube-probe/1.37" "-"',
    ]
    refused = runtime.probe(POD, "web", {"httpGet": {"path": "/", "port": 8080}})
    assert refused.message == 'Get "http://10.244.1.2:8080/": dial tcp 10.244.1.2:8080: connect: connection refused'


def test_a_database_answers_only_once_ready(runtime, clock):
    start(runtime, "redis:7", name="cache")
    tcp = {"tcpSocket": {"port": 6379}}
    ping = {"exec": {"command": ["redis-cli", "ping"]}}
    assert runtime.probe(POD, "cache", tcp).message == "dial tcp 10.244.1.2:6379: connect: connection refused"
    assert not runtime.probe(POD, "cache", ping).success
    clock.advance(2)
    assert runtime.probe(POD, "cache", tcp).success
    assert runtime.probe(POD, "cache", ping).success
    assert lines(runtime, "cache")[-1] == "1:M 26 Nov 2026 12:00:02.000 * Ready to accept connections tcp"


def test_postgres_without_a_password_exits_1_with_its_own_words(runtime):
    observed = start(runtime, "postgres:17", name="db")
    assert (observed.state, observed.exit_code) == ("exited", 1)
    assert "You must specify POSTGRES_PASSWORD to a non-empty value for the" in lines(runtime, "db")[2]
    with_password = start(runtime, "postgres:17", name="ok", env={"POSTGRES_PASSWORD": "s3cret"})
    assert with_password.state == "running"


def test_the_liveness_exec_idiom_fails_once_the_file_is_gone(runtime, clock):
    start(runtime, command=["sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"])
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}}
    clock.advance(10)
    assert runtime.probe(POD, "c", probe).success
    clock.advance(21)
    failed = runtime.probe(POD, "c", probe)
    assert (failed.success, failed.message) == (False, "cat: can't open '/tmp/healthy': No such file or directory")


def test_the_teaching_web_image_takes_its_probe_knobs_from_the_environment(runtime, clock):
    start(runtime, "kube-tutor/web:1.0", name="app", env={"READY_AFTER": "5", "FAIL_AFTER": "20"})
    ready = {"httpGet": {"path": "/ready", "port": 8080}}
    healthy = {"httpGet": {"path": "/healthz", "port": 8080}}
    assert runtime.probe(POD, "app", ready).message == "HTTP probe failed with statuscode: 503"
    clock.advance(5)
    assert runtime.probe(POD, "app", ready).success
    assert runtime.probe(POD, "app", healthy).success
    clock.advance(15)
    assert runtime.probe(POD, "app", healthy).message == "HTTP probe failed with statuscode: 500"
    assert lines(runtime, "app")[-1] == "2026-11-26T12:00:20Z GET /healthz 500 kube-probe/1.37"


def test_a_memory_limit_below_the_images_need_is_oom_killed(runtime, clock):
    limited = {"limits": {"memory": "100Mi"}}
    start(runtime, "polinux/stress", ["stress"], args=["--vm", "1", "--vm-bytes", "250M"], resources=limited)
    start(runtime, "nginx:1.27", name="web", resources={"limits": {"memory": "64Mi"}})
    clock.advance(1)
    stress = now_of(runtime)
    assert (stress.state, stress.exit_code, stress.reason) == ("exited", 137, "OOMKilled")
    assert now_of(runtime, "web").state == "running"


# -- images --------------------------------------------------------------------------------------


def test_pulls_by_policy(runtime):
    first = runtime.image_pull("httpd:2.4", policy="IfNotPresent")
    assert (first.ok, first.pulled, first.size, first.seconds) == (True, True, 58_216_474, 2.412)
    assert runtime.image_pull("httpd:2.4", policy="IfNotPresent").pulled is False
    assert runtime.image_pull("httpd:2.4", policy="Always").pulled is True
    never = runtime.image_pull("redis:7", policy="Never")
    assert (never.ok, never.reason, never.message) == (
        False,
        "ErrImageNeverPull",
        'Container image "redis:7" is not present with pull policy of Never',
    )


def test_a_missing_tag_of_a_known_image_is_not_found():
    assert catalog.image_entry("nginx:lates") is None
    assert catalog.pull_error("nginx:lates") == (
        "Error response from daemon: manifest for nginx:lates not found: manifest unknown: manifest unknown"
    )


@pytest.mark.parametrize(
    ("image", "repository", "name"),
    [
        ("nginx", "nginx", "docker.io/library/nginx:latest"),
        ("docker.io/library/nginx:1.27", "nginx", "docker.io/library/nginx:1.27"),
        ("kube-tutor/web:1.0", "kube-tutor/web", "docker.io/kube-tutor/web:1.0"),
        (
            "gcr.io/google-samples/hello-app:1.0",
            "gcr.io/google-samples/hello-app",
            "gcr.io/google-samples/hello-app:1.0",
        ),
    ],
)
def test_image_references_parse_as_the_engine_names_them(image, repository, name):
    ref = catalog.image_ref(image)
    assert (ref.repository, ref.name) == (repository, name)
    assert catalog.image_entry(image) is catalog.IMAGES[repository]


def test_a_typo_is_not_pulled_but_its_intended_name_can_be_suggested():
    assert catalog.image_entry("ngnix:1.27") is None
    assert catalog.closest_known("ngnix:1.27") == "nginx"
    assert catalog.closest_known("nginx") is None


def test_a_container_needs_its_sandbox_and_its_image(clock):
    bare = SimulatedRuntime(clock)
    with pytest.raises(RuntimeError_, match="no sandbox"):
        bare.container_start(POD, {"name": "c", "image": "busybox:1.36"}, restart=0, env={}, volumes=[])
    bare.pod_sandbox_ensure(POD, hostname="demo", volumes=[])
    with pytest.raises(RuntimeError_, match="pull it first"):
        bare.container_start(POD, {"name": "c", "image": "busybox:1.36"}, restart=0, env={}, volumes=[])


# -- the lifecycle as data, kept as JSON ------------------------------------------------------------


def test_a_script_becomes_a_chain_of_stages():
    container = {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "echo start; sleep 2; echo end; exit 3"]}
    program = program_for(container, env={}, files={}, hostname="demo")
    assert program.stages == [
        Stage("created", "running", 0.0, logs=("start",)),
        Stage("running", "exited", 2.0, logs=("end",), exit_code=3, reason="Error"),
    ]
    assert program.sigterm == "ignore"


def test_a_web_server_is_one_stage_that_starts_listening():
    program = program_for({"name": "web", "image": "nginx:1.27"}, env={}, files={}, hostname="demo")
    [stage] = program.stages
    assert (stage.when, stage.then, stage.listen) == ("created", "running", True)
    assert (program.ports, program.sigterm) == ([80], "exit")


def test_the_state_survives_a_json_round_trip_mid_life(runtime, clock):
    start(runtime, command=["sh", "-c", "echo one; sleep 10; echo two"])
    saved = json.dumps(runtime.to_json())
    clock.advance(10)
    restored = SimulatedRuntime.from_json(json.loads(saved), clock=clock)
    done = next(o for o in restored.observe(node="node-1"))
    assert (done.state, done.exit_code, done.finished_at) == ("exited", 0, T0 + timedelta(seconds=10))
    assert [text for _, text in restored.logs(POD, "c", restart=0, since=None)] == ["one", "two"]
    [run] = json.loads(saved)["runs"].values()
    assert run["stages"][1] == {
        "when": "running",
        "then": "exited",
        "after": 10.0,
        "logs": ["two"],
        "exit_code": 0,
        "reason": "Completed",
    }


def test_only_the_newest_run_and_the_one_before_are_kept(runtime):
    for restart in range(3):
        start(runtime, command=["false"], restart=restart)
    assert [o.restart for o in runtime.observe(node="node-1")] == [2, 1]


def test_sandboxes_get_addresses_from_the_pod_cidr_and_other_nodes_are_not_seen(runtime, clock):
    other = PodRef("sandbox", "default", "other", "uid-other", "node-2")
    assert runtime.pod_sandbox_ensure(other, hostname="other", volumes=[]) == "10.244.1.3"
    runtime.image_pull("busybox:1.36", policy="IfNotPresent")
    runtime.container_start(
        other, {"name": "c", "image": "busybox:1.36", "command": ["sleep", "9"]}, restart=0, env={}, volumes=[]
    )
    start(runtime, command=["sleep", "9"])
    assert {o.pod_uid for o in runtime.observe(node="node-1")} == {"uid-demo"}
    assert runtime.orphans_remove(node="node-1", known_pod_uids=set()) == ["uid-demo"]
    assert {o.pod_uid for o in runtime.observe(node="node-2")} == {"uid-other"}


# -- volumes -------------------------------------------------------------------------------------

DATA = [{"name": "data", "mountPath": "/data"}]


def test_an_empty_dir_outlives_a_container_restart_but_not_its_pod(runtime, clock):
    scratch = VolumeSpec("data", "emptyDir")
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[scratch])
    script = ["sh", "-c", "cat /data/count; echo again >> /data/count; exit 1"]
    start(runtime, command=script, volumeMounts=DATA)
    start(runtime, command=script, volumeMounts=DATA, restart=1)
    assert lines(runtime, restart=1) == ["again"]  # what the crashed run wrote is still there
    runtime.pod_remove(POD)
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[scratch])
    start(runtime, command=script, volumeMounts=DATA, restart=2)
    assert lines(runtime, restart=2) == ["cat: can't open '/data/count': No such file or directory"]


def test_a_write_lands_in_the_volume_when_the_clock_reaches_it(runtime, clock):
    shared = VolumeSpec("data", "emptyDir")
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[shared])
    start(runtime, command=["sh", "-c", "sleep 5; echo late > /data/note; sleep 3600"], volumeMounts=DATA)
    start(runtime, command=["cat", "/data/note"], name="early", volumeMounts=DATA)
    clock.advance(5)
    start(runtime, command=["cat", "/data/note"], name="later", volumeMounts=DATA)
    assert lines(runtime, "early") == ["cat: can't open '/data/note': No such file or directory"]
    assert lines(runtime, "later") == ["late"]


def test_sub_paths_and_read_only_mounts(runtime):
    shared = VolumeSpec("data", "emptyDir")
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[shared])
    start(
        runtime,
        command=["sh", "-c", "echo mine > /site/index.html"],
        volumeMounts=[{**DATA[0], "mountPath": "/site", "subPath": "html"}],
    )
    start(
        runtime,
        command=["sh", "-c", "echo nope > /data/html/index.html"],
        name="read-only",
        volumeMounts=[{**DATA[0], "readOnly": True}],
    )
    start(runtime, command=["cat", "/data/html/index.html"], name="reader", volumeMounts=DATA)
    assert lines(runtime, "reader") == ["mine"]


def test_nodes_sharing_a_volume_store_see_a_claims_files_from_either_node(clock):
    store = StateVolumes({})
    claim = VolumeSpec("data", "persistent", key="claim-uid")
    node_1 = SimulatedRuntime(clock, node="node-1", volumes=store)
    node_2 = SimulatedRuntime.from_json(
        SimulatedRuntime(clock, node="node-2").to_json(), clock=clock, node="node-2", volumes=store
    )
    first, second = (
        PodRef("s", "default", "first", "uid-1", "node-1"),
        PodRef("s", "default", "second", "uid-2", "node-2"),
    )
    for node, pod, script in ((node_1, first, "echo kept > /data/note"), (node_2, second, "cat /data/note")):
        node.pod_sandbox_ensure(pod, hostname=pod.name, volumes=[claim])
        node.image_pull("busybox:1.36", policy="IfNotPresent")
        container = {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", script], "volumeMounts": DATA}
        node.container_start(pod, container, restart=0, env={}, volumes=[claim])
    node_1.pod_remove(first)
    assert [text for _, text in node_2.logs(second, "c", restart=0, since=None)] == ["kept"]
    assert store.files("claim-uid") == {"note": "kept\n"}


def test_a_nodes_own_persistent_volumes_are_kept_in_its_json_state(runtime, clock):
    claim = VolumeSpec("data", "persistent", key="claim-uid")
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[claim])
    start(runtime, command=["sh", "-c", "echo kept > /data/note"], volumeMounts=DATA)
    runtime.pod_remove(POD)
    restored = SimulatedRuntime.from_json(json.dumps(runtime.to_json()), clock=clock, node="node-1")
    restored.pod_sandbox_ensure(POD, hostname="demo", volumes=[claim])
    start(restored, command=["cat", "/data/note"], volumeMounts=DATA)
    assert lines(restored) == ["kept"]


# -- the documentation's images ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "fields", "state"),
    [
        ("registry.k8s.io/pause:3.10", {}, "running"),
        ("registry.k8s.io/e2e-test-images/agnhost:2.39", {}, "running"),
        ("registry.k8s.io/hpa-example", {}, "running"),
        ("registry.k8s.io/busybox:1.27.2", {"command": ["sleep", "60"]}, "running"),
        ("registry.k8s.io/nginx-slim:0.8", {}, "running"),
        ("registry.k8s.io/echoserver:1.10", {}, "running"),
        ("gcr.io/google_samples/gb-frontend:v5", {}, "running"),
        ("us-docker.pkg.dev/google-samples/containers/gke/gb-redis-follower:v2", {}, "running"),
        ("docker.io/redis:6.0.5", {}, "running"),
        ("mongo:4.2", {"args": ["--bind_ip", "0.0.0.0"]}, "running"),  # noqa: S104 - the docs' mongo
        ("rabbitmq", {}, "running"),
        ("memcached:1.6", {}, "running"),
        ("gcr.io/google-samples/cassandra:v13", {}, "running"),
        (
            "registry.k8s.io/kubernetes-zookeeper:1.0-3.4.10",
            {"command": ["sh", "-c", "start-zookeeper --servers=3"]},
            "running",
        ),
        ("python:3.13", {}, "exited"),  # python3 with no terminal reads an empty stdin and ends
        ("node:22", {}, "exited"),
        ("golang:1.23", {"command": ["go", "version"]}, "exited"),
        ("eclipse-temurin:21", {"command": ["java", "-version"]}, "exited"),
        ("ruby:3.3", {"command": ["ruby", "-e", "puts 'hi'"]}, "exited"),
    ],
)
def test_the_documentations_images_pull_and_run(runtime, image, fields, state):
    assert runtime.image_pull(image, policy="IfNotPresent").ok
    observed = start(runtime, image, name="c", **fields)
    assert (observed.state, observed.exit_code in (None, 0)) == (state, True)


def test_the_pi_job_prints_pi_to_the_digits_asked(runtime):
    observed = start(runtime, "perl:5.40", ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"])
    assert (observed.state, observed.exit_code) == ("exited", 0)
    [digits] = lines(runtime)
    assert len(digits) == 2001
    assert digits.startswith("3.14159265358979323846264338327950288")


def test_a_pods_args_go_to_the_images_entrypoint_and_its_command_replaces_it(runtime, clock):
    start(
        runtime, "redis:5", args=["/usr/local/etc/redis/redis.conf"], name="conf"
    )  # docker-entrypoint.sh → redis-server
    start(runtime, "nginx:1.27", args=["sh", "-c", "echo via the entrypoint"], name="args")
    start(runtime, "nginx:1.27", ["echo"], args=["command", "and", "args"], name="both")
    clock.advance(2)
    assert runtime.probe(POD, "conf", {"tcpSocket": {"port": 6379}}).success
    assert lines(runtime, "args") == ["via the entrypoint"]
    assert lines(runtime, "both") == ["command and args"]


def test_agnhost_liveness_answers_for_ten_seconds_then_fails(runtime, clock):
    start(runtime, "registry.k8s.io/e2e-test-images/agnhost:2.40", args=["liveness"], name="liveness")
    probe = {"httpGet": {"path": "/healthz", "port": 8080}}
    clock.advance(9)
    assert runtime.probe(POD, "liveness", probe).success
    clock.advance(1)
    assert runtime.probe(POD, "liveness", probe).message == "HTTP probe failed with statuscode: 500"


def test_the_termination_message_is_what_the_container_wrote_to_its_file(runtime, clock):
    start(runtime, "debian", ["/bin/sh"], args=["-c", "sleep 10 && echo Sleep expired > /dev/termination-log"])
    clock.advance(10)
    assert (now_of(runtime).exit_code, now_of(runtime).message) == (0, "Sleep expired\n")
    failing = {"terminationMessagePolicy": "FallbackToLogsOnError"}
    observed = start(runtime, command=["sh", "-c", "echo first; echo last words; exit 2"], name="fails", **failing)
    assert observed.message == "first\nlast words"


# -- exec ------------------------------------------------------------------------------------------


def exec_all(process, data: bytes = b"") -> tuple[int, str]:
    if data:
        process.write_stdin(data)
    process.close_stdin()
    output = b""
    while (chunk := process.read_output(10)) is not None and chunk[1]:
        output += chunk[1]
    return process.wait(10), output.decode()


def test_an_exec_write_is_read_by_the_containers_own_loop_from_its_next_round(runtime, clock):
    scratch = VolumeSpec("data", "emptyDir")
    runtime.pod_sandbox_ensure(POD, hostname="demo", volumes=[scratch])
    loop = "while true; do cat /data/m 2>/dev/null || echo none; sleep 5; done"
    start(runtime, command=["sh", "-c", loop], volumeMounts=DATA)
    clock.advance(7)
    assert exec_all(runtime.container_exec(POD, "c", ["sh", "-c", "echo new > /data/m"], tty=False, stdin=False)) == (
        0,
        "",
    )
    clock.advance(10)
    assert lines(runtime) == ["none", "none", "new", "new"]
    saved = SimulatedRuntime.from_json(json.loads(json.dumps(runtime.to_json())), clock=clock)
    clock.advance(5)
    assert [text for _, text in saved.logs(POD, "c", restart=0, since=None)][-1] == "new"


def test_exec_into_an_image_without_a_shell_fails_as_the_engine_says(runtime):
    start(runtime, "registry.k8s.io/pause:3.10", name="pause")
    code, output = exec_all(runtime.container_exec(POD, "pause", ["sh"], tty=False, stdin=False))
    assert code == 126
    assert 'exec: "sh": executable file not found in $PATH' in output


def test_a_pod_mate_reaches_the_web_servers_pages_on_localhost(runtime):
    start(runtime, "nginx:1.27", name="web")
    start(runtime, command=["sleep", "3600"], name="client")
    code, page = exec_all(runtime.container_exec(POD, "client", ["wget", "-qO-", "localhost"], tty=False, stdin=False))
    assert (code, page.splitlines()[3]) == (0, "<title>Welcome to nginx!</title>")
    runtime.container_exec(
        POD, "web", ["sh", "-c", "echo mine > /usr/share/nginx/html/index.html"], tty=False, stdin=False
    ).wait(10)
    assert exec_all(runtime.container_exec(POD, "client", ["wget", "-qO-", "localhost"], tty=False, stdin=False)) == (
        0,
        "mine\n",
    )


def test_a_sidecar_polling_localhost_reaches_the_web_server_once_it_starts(runtime, clock):
    poll = "while true; do wget -qO- http://localhost:80 | head -n 4 | tail -n 1; sleep 5; done"
    start(runtime, command=["sh", "-c", poll], name="client")  # a sidecar starts before the app
    clock.advance(1)
    start(runtime, "nginx:1.29", name="web")
    clock.advance(10)
    assert lines(runtime, "client") == [
        "wget: can't connect to remote host (127.0.0.1): Connection refused",
        "<title>Welcome to nginx!</title>",
        "<title>Welcome to nginx!</title>",
    ]


def test_a_wait_for_a_database_ends_when_it_becomes_ready(runtime, clock):
    wait = "until nc -z localhost 6379; do echo waiting; sleep 1; done; echo redis is up"
    start(runtime, command=["sh", "-c", wait], name="waiter")
    start(runtime, "redis:7", name="cache")  # ready two seconds after it starts
    clock.advance(5)
    assert lines(runtime, "waiter") == ["waiting", "waiting", "redis is up"]
    assert now_of(runtime, "waiter").finished_at == T0 + timedelta(seconds=2)
