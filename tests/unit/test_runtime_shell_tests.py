"""`[[ … ]]` in the simulated runtime's busybox sh, as busybox ash (1.35/1.36, with its bash-compatible
`[[`) answers it: file tests, string tests, `&&`/`||` inside, and a `]]` followed right away by `;`,
`&&`, `||` or `|`. The expected answers are what `busybox sh -c` printed on a real busybox."""

import pytest

from clusters.runtime import catalog
from clusters.runtime.shell import Container, probe_run

FILES = {"/etc/podinfo/labels": 'app="web"', "/etc/empty": "", "/data/note": "kept\n"}


def run(script: str, **fields) -> tuple[int | None, str]:
    container = Container(
        entry=catalog.IMAGES["busybox"], env={"HOME": "/root"}, hostname="demo", files=dict(FILES), **fields
    )
    return probe_run(["sh", "-c", script], container)


@pytest.mark.parametrize(
    ("test", "status"),
    [
        ("-e /etc/podinfo/missing", 1),
        ("-e /etc/podinfo/labels", 0),
        ("-e /etc", 0),
        ("-f /etc/podinfo/labels", 0),
        ("-f /etc", 1),
        ("-d /etc", 0),
        ("-d /etc/podinfo/labels", 1),
        ("-s /etc/podinfo/labels", 0),
        ("-s /etc/empty", 1),
        ("-s /dev/null", 1),
        ("-s /nope", 1),
        ("-r /etc/podinfo/labels", 0),
        ("-r /nope", 1),
        ("-w /data/note", 0),
        ("-w /nope", 1),
        ("-x /etc", 0),
        ("-x /etc/podinfo/labels", 1),
        ("! -e /nope", 0),
        ("-z ''", 0),
        ("-z x", 1),
        ('-n ""', 1),
        ("-n x", 0),
        ("x", 0),
        ('""', 1),
        ("", 1),
        ("-e", 0),  # one word: true when not empty
        ("abc = a*", 0),  # a pattern, as busybox's [[ matches it
        ("abc == a*", 0),
        ("abc != a*", 1),
        ("a != b", 0),
        ("'a b' = 'a b'", 0),
        ("-f /nope && -n x", 1),
        ("-f /etc/podinfo/labels && -n x", 0),
        ("-f /nope || -n x", 0),
        ("-e /nope || -e /nope2", 1),
        ("! -e /nope && -e /etc", 0),
        ("-e / && ! -d /", 1),
        ("a = b || c = c", 0),
        ("1 -lt 2 && 3 -gt 2", 0),
    ],
)
def test_a_test_answers_as_busybox_does(test, status):
    assert run(f"[[ {test} ]]; echo $?") == (0, f"{status}\n")


def test_the_documentations_downward_api_loop_reads_the_files_that_are_there():
    # dapi-volume.yaml's loop, one round: labels are there, annotations are not
    script = (
        "if [[ -e /etc/podinfo/labels ]]; then echo -en '\\n\\n'; cat /etc/podinfo/labels; fi; "
        "if [[ -e /etc/podinfo/annotations ]]; then echo -en '\\n\\n'; cat /etc/podinfo/annotations; fi;"
    )
    assert run(script) == (0, '\n\napp="web"')


@pytest.mark.parametrize(
    ("script", "output"),
    [
        ("[[ -e /nope ]] && echo yes || echo no", "no\n"),
        ("[[ -e /etc ]]&&echo y", "y\n"),
        ("[[ -e /nope ]]||echo n", "n\n"),
        ("[[ -e /etc ]] ; echo $?", "0\n"),
        ("if [[ -e /nope ]]; then echo y; else echo n; fi", "n\n"),
        ("while [[ -e /nope ]]; do echo never; done; echo after", "after\n"),
        ("(true && [[ -e /nope ]]); echo $?", "1\n"),
        ("X=''; [[ -z $X ]]; echo $?", "0\n"),
    ],
)
def test_a_double_bracket_ends_where_its_brackets_do(script, output):
    assert run(script) == (0, output)


def test_root_may_write_to_a_read_only_mount_as_busybox_tests_it():
    # busybox's test asks the mode bits only, so root's -w is true on a read-only mount (the write
    # still fails); another user's is not
    as_root = run("[[ -w /data/note ]]; echo $?; echo x > /data/note", read_only=("/data",))
    assert as_root == (1, "0\nsh: can't create /data/note: Read-only file system\n")
    assert run("[[ -w /data/note ]]; echo $?", read_only=("/data",), user=(1000, 1000, ())) == (0, "1\n")
