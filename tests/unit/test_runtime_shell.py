"""The simulated runtime's shell: busybox sh and its applets over a container's files, as a
container's command (a timeline), an exec probe, and played again with a write from outside."""

import base64
import json

import pytest

from clusters.runtime import catalog, interpreters, shell
from clusters.runtime.shell import Answer, Container, file_decode, file_encode, probe_run, timeline

BUSYBOX = catalog.IMAGES["busybox"]


def container(entry: dict = BUSYBOX, **fields) -> Container:
    return Container(**{"entry": entry, "env": {"HOME": "/root"}, "hostname": "demo", **fields})


def run(script: str, **fields) -> tuple[int | None, str]:
    """An exec probe's view: the exit status and what it printed (stdout and stderr)."""
    return probe_run(["sh", "-c", script], container(**fields))


def logs(argv: list[str], **fields) -> list[str]:
    return [payload for _, kind, payload in timeline(argv, container(**fields)).effects if kind == "log"]


# -- the language ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "output"),
    [
        ("echo hello | rev", "olleh\n"),
        ("printf 'b\\na\\nb\\n' | sort | uniq -c", "      1 a\n      2 b\n"),
        ("echo a:b:c | cut -d: -f2,3", "b:c\n"),
        ("echo Hello | tr a-z A-Z", "HELLO\n"),
        ("echo 'one two' | sed 's/one/1/'", "1 two\n"),
        ("printf '3 x\\n5 y\\n' | awk '{s += $1} END {print s, NR}'", "8 2\n"),
        ("printf 'a b\\nc d\\n' | awk '{print $2}' | tac", "d\nb\n"),
        ("expr 6 \\* 7; expr length hello", "42\n5\n"),
        ("yes | head -n 2", "y\ny\n"),
        ("seq 3 | xargs -n 1 echo item", "item 1\nitem 2\nitem 3\n"),
        ("echo x | tee /tmp/copy >/dev/null; cat /tmp/copy", "x\n"),
        ("basename /a/b/c.txt .txt; dirname /a/b/c.txt", "c\n/a/b\n"),
        ("seq 10 | grep -c 1; seq 10 | grep -v '[2-9]'", "2\n1\n10\n"),
        ("echo hi | wc -c; printf 'a\\nb\\n' | wc -l", "3\n2\n"),
    ],
)
def test_pipes_carry_output_from_one_applet_to_the_next(script, output):
    assert run(script) == (0, output)


def test_variables_arithmetic_and_substitution():
    script = 'n=3; n=$((n * 2 + 1)); echo "$n ${UNSET:-fallback} ${#n} $(echo inner)"; x=$(false); echo $?'
    assert run(script) == (0, "7 fallback 1 inner\n1\n")


def test_bash_arrays_and_regular_expression_matches():
    script = "items=(foo bar baz); echo ${items[1]} ${#items[@]}; [[ web-12 =~ -([0-9]+)$ ]] && echo ${BASH_REMATCH[1]}"
    assert run(script) == (0, "bar 3\n12\n")


def test_functions_case_loops_and_subshells():
    script = (
        "greet() { echo hello $1; return 3; }; greet you; echo $?; "
        "case web-0 in web-*) echo a web pod;; *) echo other;; esac; "
        "for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done; "
        "(cd /etc; pwd); pwd; sh -c 'exit 5'; echo $?"
    )
    assert run(script) == (0, "hello you\n3\na web pod\n1\n3\n/etc\n/\n5\n")


def test_set_e_ends_the_script_at_the_first_untested_failure():
    assert run("set -e; false || echo tested; echo on; false; echo never") == (1, "tested\non\n")


def test_redirections_and_streams():
    script = (
        "echo out; echo err >&2; ls /nope 2>/dev/null; echo $?; echo kept > /tmp/f; echo more >> /tmp/f; cat < /tmp/f"
    )
    assert run(script) == (0, "out\nerr\n1\nkept\nmore\n")


def test_files_and_directories():
    script = (
        "mkdir -p /tmp/a/b && touch /tmp/a/b/c && echo x > /tmp/a/top; find /tmp/a; "
        "cp -r /tmp/a /tmp/copy; rm -r /tmp/a; ls /tmp; mv /tmp/copy/top /tmp/moved; cat /tmp/moved; "
        "test -d /tmp/copy/b && test -f /tmp/copy/b/c && echo both"
    )
    assert run(script) == (0, "/tmp/a\n/tmp/a/b\n/tmp/a/b/c\n/tmp/a/top\ncopy\nx\nboth\n")


def test_a_write_where_the_directory_does_not_exist_fails_as_busybox_says():
    assert run("echo x > /nowhere/file") == (1, "sh: can't create /nowhere/file: nonexistent directory\n")


def test_a_read_only_mount_refuses_writes():
    status, output = run("echo x > /etc/config/new", read_only=("/etc/config",), mounts=("/etc/config",))
    assert (status, output) == (1, "sh: can't create /etc/config/new: Read-only file system\n")


def test_digests_and_base64_work_on_bytes():
    blob = file_encode(bytes(range(256)).decode("utf-8", "surrogateescape"))
    status, output = run("md5sum /tmp/blob; base64 /tmp/blob | base64 -d | md5sum", files={"/tmp/blob": blob})
    assert status == 0
    assert output == "e2c865db4162bed963bfaa9ef6ac18f0  /tmp/blob\ne2c865db4162bed963bfaa9ef6ac18f0  -\n"


def test_an_unsupported_option_is_said_plainly():
    assert run("seq 3 | sort -R") == (1, "sort: unsupported option '-R' (the simulated runtime does not model it)\n")
    assert (
        run("echo a | sed 'w /tmp/x'")[1] == "sed: unsupported option 'w' (the simulated runtime does not model it)\n"
    )


def test_who_the_process_is_comes_from_the_security_context():
    assert run("id; whoami")[1] == "uid=0(root) gid=0(root) groups=0(root),10(wheel)\nroot\n"
    assert run("id; whoami", user=(1000, 3000, (2000,))) == (
        1,
        "uid=1000 gid=3000 groups=3000,2000\nwhoami: unknown uid 1000\n",
    )


def test_a_debian_image_has_no_ps_and_its_sh_says_so_as_dash_does():
    debian = catalog.IMAGES["debian"]
    assert probe_run(["sh", "-c", "ps"], container(debian)) == (127, "sh: 1: ps: not found\n")
    assert probe_run(["bash", "-c", "ps"], container(debian)) == (127, "bash: line 1: ps: command not found\n")
    assert not shell.program_exists("ps", debian)
    assert shell.program_exists("ps", BUSYBOX)


def test_the_kubelets_files_are_there():
    status, output = run("cat /etc/hostname; ls /etc | grep host", system={"/etc/hostname": "demo\n", "/etc/hosts": ""})
    assert (status, output) == (0, "demo\nhostname\nhosts\n")


# -- the network -----------------------------------------------------------------------------------


class Network:
    nameserver = "10.96.0.10"

    def lookup(self, name):
        return [("web.default.svc.cluster.local", "10.96.0.20")] if name == "web" else []

    def http_get(self, address, port, path, *, at=None):
        return Answer(200, f"page {path} from {address}:{port}\n") if address == "10.96.0.20" and port == 80 else None


def test_nslookup_and_wget_go_through_the_pods_network():
    status, output = run("nslookup web", network=Network())
    assert status == 0
    assert output.splitlines()[3:5] == ["Name:\tweb.default.svc.cluster.local", "Address: 10.96.0.20"]
    assert run("wget -qO- http://web/hello", network=Network()) == (0, "page /hello from 10.96.0.20:80\n")
    assert run("wget -qO- web:8080", network=Network()) == (
        1,
        "wget: can't connect to remote host (10.96.0.20): Connection refused\n",
    )
    assert run("wget -qO- nowhere", network=Network()) == (1, "wget: bad address 'nowhere'\n")


# -- timelines -------------------------------------------------------------------------------------


def test_a_loop_whose_rounds_repeat_becomes_a_cycle():
    played = timeline(["sh", "-c", "while true; do date; sleep 5; done"], container())
    assert played.ending == ("loop", 0.0, 5.0, [(0.0, "log", "{time:%a %b %e %H:%M:%S UTC %Y}")])


def test_a_replay_with_a_write_from_outside_reads_it_from_the_next_round_on():
    script = ["sh", "-c", "while true; do cat /data/m 2>/dev/null || echo none; sleep 5; done"]
    played = timeline(script, container(mounts=("/data",)), events=((12.0, "/data/m", "new\n"),), record_from=12.0)
    assert played.ending == ("loop", 15.0, 5.0, [(0.0, "log", "new")])
    assert played.effects == []


def test_a_replay_that_cannot_reach_the_moment_says_so():
    script = ["sh", "-c", "i=0; while true; do i=$((i+1)); sleep 1; done"]
    played = timeline(script, container(), events=((10**6, "/tmp/x", "late"),), record_from=10**6)
    assert played.ending == ("unreached",)


def test_a_stdin_left_open_is_a_read_that_waits_for_ever():
    assert timeline(["cat"], container(stdin_open=True)).ending == ("forever",)
    assert timeline(["cat"], container()).ending == ("exit", 0, 0.0)


# -- stored file contents --------------------------------------------------------------------------


def test_contents_that_are_not_text_round_trip_through_json():
    text = (bytes(range(256)) + "é".encode()).decode("utf-8", "surrogateescape")
    stored = file_encode(text)
    assert "\x00" not in stored
    assert file_decode(json.loads(json.dumps(stored, ensure_ascii=False))) == text
    assert file_encode("plain text\n") == "plain text\n"
    assert base64.b64decode(stored.split(":", 1)[1]) == bytes(range(256)) + "é".encode()


# -- the language runtimes -------------------------------------------------------------------------


def test_perls_bpi_gives_the_digits_of_pi_rounded():
    assert interpreters.pi_digits(10) == "3.141592654"
    assert interpreters.pi_digits(50) == "3.1415926535897932384626433832795028841971693993751"
    perl = catalog.IMAGES["perl"]
    assert logs(["perl", "-Mbignum=bpi", "-wle", "print bpi(12)"], entry=perl) == ["3.14159265359"]
    assert logs(["perl", "-wle", "print bpi(12)"], entry=perl) == [
        "Undefined subroutine &main::bpi called at -e line 1."
    ]


def test_python_runs_the_documentations_job_scripts():
    python = catalog.IMAGES["python"]
    script = (  # the documentation's Job with backoffLimitPerIndex
        "import os, sys\nprint('Hello world')\n"
        "if int(os.environ.get('JOB_COMPLETION_INDEX')) % 2 == 0:\n  sys.exit(1)\n"
    )
    for index, code in (("2", 1), ("3", 0)):
        view = container(python, env={"JOB_COMPLETION_INDEX": index})
        assert probe_run(["python3", "-c", script], view) == (code, "Hello world\n")


def test_python_reports_errors_as_python_does_and_refuses_what_it_does_not_model():
    python = catalog.IMAGES["python"]
    assert probe_run(["python3", "-c", "print(1/0)"], container(python)) == (
        1,
        'Traceback (most recent call last):\n  File "<string>", line 1, in <module>\n'
        "ZeroDivisionError: division by zero\n",
    )
    status, output = probe_run(["python3", "-c", "import subprocess"], container(python))
    assert (status, output) == (
        1,
        "python3: the simulated runtime does not run this program: the module 'subprocess' is not supported\n",
    )
    assert probe_run(["python3", "-c", "import numpy"], container(python))[1].endswith(
        "ModuleNotFoundError: No module named 'numpy'\n"
    )
