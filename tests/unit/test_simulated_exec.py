"""`kubectl exec` into the simulated runtime from the web process: the process (streams, exit
codes, sessions, tar for `kubectl cp`) and its writes, saved into the node's state beside the
kubelet's own runs."""

import hashlib
import io
import tarfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clusters import kubelet, simulated_exec, store
from clusters.models import ContainerLog, NodeRuntimeState
from clusters.objects.resources import resource_for_kind
from clusters.runtime.base import STDOUT, ContainerNotRunning, PodRef
from clusters.sandboxes import sandbox_create
from clusters.simulated_volumes import SandboxVolumes

PODS = resource_for_kind("v1", "Pod")
WAIT = 10  # seconds a blocking read may take before the test gives up (never reached when it passes)

# The process runs in a thread of its own, with a database connection of its own: what the test
# wrote must be committed for it to see.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clock(monkeypatch):
    """One moment for the kubelet and for execs, moved by the test."""
    moment = SimpleNamespace(now=timezone.now())
    fake = SimpleNamespace(now=lambda: moment.now)
    monkeypatch.setattr(kubelet, "timezone", fake)
    monkeypatch.setattr(simulated_exec, "timezone", fake)
    return moment


@pytest.fixture
def sandbox():
    return sandbox_create(owner=User.objects.create(username="alice"), runtime="simulated", fast_backoff=True)


LOOP = "while true; do cat /data/message 2>/dev/null || echo nothing yet; sleep 5; done"


def pod_body(name: str = "demo", containers: list | None = None) -> dict:
    containers = containers or [
        {
            "name": "main",
            "image": "busybox:1.36",
            "command": ["sh", "-c", LOOP],
            "env": [{"name": "GREETING", "value": "hello"}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        }
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"nodeName": "node-1", "containers": containers, "volumes": [{"name": "data", "emptyDir": {}}]},
    }


@pytest.fixture
def pod(sandbox, clock) -> PodRef:
    created = store.object_create(sandbox=sandbox, resource=PODS, body=pod_body(), namespace="default")
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    return PodRef(sandbox.uid.hex, "default", "demo", created["metadata"]["uid"], "node-1")


def start(sandbox, pod, command, *, container="main", tty=False, stdin=False):
    return simulated_exec.exec_open(
        sandbox=sandbox, pod=pod, container=container, command=command, tty=tty, stdin=stdin
    )


def finish(process, data: bytes = b"") -> tuple[int, bytes, bytes]:
    """Feed stdin (then close it), read everything: (exit code, stdout, stderr)."""
    if data:
        process.write_stdin(data)
    process.close_stdin()
    out, err = b"", b""
    while (chunk := process.read_output(WAIT)) is not None and chunk != (STDOUT, b""):
        stream, data = chunk
        out, err = (out + data, err) if stream == STDOUT else (out, err + data)
    return process.wait(WAIT), out, err


def read_until(process, expected: bytes) -> bytes:
    seen = b""
    while expected not in seen:
        chunk = process.read_output(WAIT)
        assert chunk is not None, f"no {expected!r} in {seen!r}"
        assert chunk != (STDOUT, b""), f"the process ended without {expected!r}: {seen!r}"
        seen += chunk[1]
    return seen


def container_lines(pod: PodRef) -> list[str]:
    return list(ContainerLog.objects.filter(pod_uid=pod.uid, container="main").values_list("line", flat=True))


def test_cat_etc_hostname_gives_the_pod_name_and_the_environment_is_the_containers(sandbox, pod):
    assert finish(start(sandbox, pod, ["cat", "/etc/hostname"])) == (0, b"demo\n", b"")
    code, out, _ = finish(start(sandbox, pod, ["sh", "-c", "echo $GREETING from $HOSTNAME; grep demo /etc/hosts"]))
    assert code == 0
    assert out.decode().splitlines()[0] == "hello from demo"
    assert out.decode().splitlines()[1].endswith("\tdemo")


def test_exit_codes_of_a_script_an_unknown_command_and_a_missing_program(sandbox, pod):
    assert finish(start(sandbox, pod, ["sh", "-c", "exit 3"]))[0] == 3
    assert finish(start(sandbox, pod, ["sh", "-c", "no-such-thing"])) == (127, b"", b"sh: no-such-thing: not found\n")
    code, out, _ = finish(start(sandbox, pod, ["no-such-thing"]))
    assert code == 126
    assert b'exec: "no-such-thing": executable file not found in $PATH' in out


def test_an_interactive_terminal_prompts_echoes_what_is_typed_and_ends_with_exit(sandbox, pod):
    session = start(sandbox, pod, ["sh"], tty=True, stdin=True)
    assert read_until(session, b"/ # ") == b"/ # "
    session.write_stdin(b"echo hi there\r")
    shown = read_until(session, b"hi there\r\n/ # ")
    assert shown == b"echo hi there\r\nhi there\r\n/ # "  # the typed line echoed, then the output, then a prompt
    session.write_stdin(b"exit 4\r")
    assert finish(session)[0] == 4


def test_a_session_without_a_terminal_answers_each_line_as_it_arrives(sandbox, pod):
    session = start(sandbox, pod, ["sh"], stdin=True)
    session.write_stdin(b"echo one\n")
    assert read_until(session, b"one\n") == b"one\n"  # before any more input, or stdin's end
    session.write_stdin(b"ls /no/such 2>&1; echo two\n")
    assert read_until(session, b"two\n") == b"ls: /no/such: No such file or directory\ntwo\n"
    assert finish(session) == (0, b"", b"")


def test_kubectl_cp_in_and_out_keeps_binary_content(sandbox, pod):
    blob = bytes(range(256)) * 4  # not UTF-8, with NULs
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as made:
        info = tarfile.TarInfo("data/copied/blob.bin")
        info.size = len(blob)
        made.addfile(info, io.BytesIO(blob))
    assert finish(start(sandbox, pod, ["tar", "-xmf", "-", "-C", "/"], stdin=True), archive.getvalue())[0] == 0

    code, out, err = finish(start(sandbox, pod, ["tar", "cf", "-", "data/copied"], stdin=True))
    assert (code, err) == (0, b"")
    with tarfile.open(fileobj=io.BytesIO(out)) as got:
        assert got.extractfile("data/copied/blob.bin").read() == blob
    digest = hashlib.md5(blob).hexdigest().encode()  # noqa: S324 - what md5sum prints
    assert finish(start(sandbox, pod, ["md5sum", "/data/copied/blob.bin"]))[1] == digest + b"  /data/copied/blob.bin\n"


def test_a_write_persists_for_later_execs_and_reaches_the_containers_own_loop(sandbox, pod, clock):
    clock.now += timedelta(seconds=6)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert finish(start(sandbox, pod, ["sh", "-c", "echo written by exec > /data/message"]))[0] == 0
    assert finish(start(sandbox, pod, ["cat", "/data/message"]))[1] == b"written by exec\n"

    clock.now += timedelta(seconds=10)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    assert container_lines(pod) == ["nothing yet", "nothing yet", "written by exec", "written by exec"]


def test_a_write_survives_a_kubelet_run_that_saves_a_state_loaded_before_it(sandbox, pod, clock):
    row = NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1")
    loaded_before = row.runtime  # what a kubelet run that started before the exec holds
    assert finish(start(sandbox, pod, ["sh", "-c", "echo kept > /data/message"]))[0] == 0
    row.runtime = loaded_before
    row.save(update_fields=["runtime"])  # … and saves when it ends

    assert finish(start(sandbox, pod, ["cat", "/data/message"]))[1] == b"kept\n"
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    state = NodeRuntimeState.objects.get(sandbox=sandbox, node="node-1").runtime
    [volume] = state["pods"][pod.uid]["volumes"].values()
    assert volume["files"] == {"message": "kept\n"}


def test_kept_writes_are_forgotten_once_the_node_state_holds_them(sandbox, pod):
    for text in ("one", "two"):
        assert finish(start(sandbox, pod, ["sh", "-c", f"echo {text} > /data/{text}"]))[0] == 0
    kept = NodeRuntimeState.objects.get(sandbox=sandbox, node="exec:node-1").state["writes"]
    assert [list(write["files"]) for write in kept] == [["/data/two"]]


def test_a_write_to_an_empty_dir_is_seen_by_the_pods_other_container(sandbox, clock):
    reader = {
        "name": "reader",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "until [ -f /shared/ready ]; do sleep 1; done; cat /shared/ready; sleep 3600"],
        "volumeMounts": [{"name": "data", "mountPath": "/shared"}],
    }
    writer = {
        "name": "main",
        "image": "busybox:1.36",
        "command": ["sleep", "3600"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    created = store.object_create(
        sandbox=sandbox, resource=PODS, body=pod_body("pair", [writer, reader]), namespace="default"
    )
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    pair = PodRef(sandbox.uid.hex, "default", "pair", created["metadata"]["uid"], "node-1")
    assert finish(start(sandbox, pair, ["sh", "-c", "echo go > /data/ready"]))[0] == 0
    clock.now += timedelta(seconds=2)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    lines = ContainerLog.objects.filter(pod_uid=pair.uid, container="reader").values_list("line", flat=True)
    assert list(lines) == ["go"]


def test_a_container_that_does_not_run_is_refused_in_upstreams_words(sandbox, clock):
    done = {"name": "main", "image": "busybox:1.36", "command": ["true"]}
    created = store.object_create(sandbox=sandbox, resource=PODS, body=pod_body("done", [done]), namespace="default")
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    ref = PodRef(sandbox.uid.hex, "default", "done", created["metadata"]["uid"], "node-1")
    with pytest.raises(ContainerNotRunning, match=r'container not found \("main"\)'):
        start(sandbox, ref, ["sh"])


def test_stderr_is_its_own_stream_without_a_terminal_and_merged_with_one(sandbox, pod):
    script = ["sh", "-c", "echo out; echo err >&2"]
    assert finish(start(sandbox, pod, script))[1:] == (b"out\n", b"err\n")
    assert finish(start(sandbox, pod, script, tty=True))[1:] == (b"out\r\nerr\r\n", b"")


def test_a_client_going_away_ends_a_process_that_would_run_for_ever(sandbox, pod):
    process = start(sandbox, pod, ["tail", "-f", "/dev/null"])
    assert process.wait(0) is None
    process.terminate()
    assert process.wait(WAIT) == 137
    assert process.read_output(WAIT) == (STDOUT, b"")


def test_a_session_sees_what_the_container_writes_while_it_lasts(sandbox, clock):
    counter = {
        "name": "main",
        "image": "busybox:1.36",
        "command": ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /data/count; sleep 5; done"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    created = store.object_create(
        sandbox=sandbox, resource=PODS, body=pod_body("count", [counter]), namespace="default"
    )
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    ref = PodRef(sandbox.uid.hex, "default", "count", created["metadata"]["uid"], "node-1")
    session = start(sandbox, ref, ["sh"], stdin=True)
    session.write_stdin(b"cat /data/count\n")
    assert read_until(session, b"1\n") == b"1\n"
    clock.now += timedelta(seconds=10)
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    session.write_stdin(b"cat /data/count\n")
    assert read_until(session, b"3\n") == b"3\n"
    assert finish(session)[0] == 0


def test_a_write_to_a_claim_outlives_the_pod_for_the_next_one(sandbox, clock):
    claims = resource_for_kind("v1", "PersistentVolumeClaim")
    claim = {
        "metadata": {"name": "notes"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    created_claim = store.object_create(sandbox=sandbox, resource=claims, body=claim, namespace="default")
    volume = [{"name": "data", "persistentVolumeClaim": {"claimName": "notes"}}]
    writer = {
        "name": "main",
        "image": "busybox:1.36",
        "command": ["sleep", "3600"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    body = {**pod_body("writer", [writer]), "spec": {**pod_body("writer", [writer])["spec"], "volumes": volume}}
    created = store.object_create(sandbox=sandbox, resource=PODS, body=body, namespace="default")
    kubelet.kubelet_reconcile(sandbox, node="node-1", now=clock.now)
    ref = PodRef(sandbox.uid.hex, "default", "writer", created["metadata"]["uid"], "node-1")
    assert finish(start(sandbox, ref, ["sh", "-c", "echo kept on the claim > /data/note"]))[0] == 0
    assert SandboxVolumes(sandbox).files(created_claim["metadata"]["uid"]) == {"note": "kept on the claim\n"}
