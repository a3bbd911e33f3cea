"""The simulated runtime: containers whose lives are written as data and played by a clock.

Every run of a container gets a table of stages, as kwok writes a pod's lifecycle: each stage has a
guard (the state the run must be in), the state it leads to, a delay, and what happens then — log
lines, files written or removed, a port that starts (or stops) answering, HTTP answers that change,
an exit code. The table is built from the image catalog (`clusters.runtime.catalog`) and the
container's command, so `nginx` serves, `busybox` running `sleep 5` exits 0 after five seconds and
`sh -c 'while true; do date; sleep 5; done'` logs forever.

Nothing sleeps and nothing runs in the background: every call first brings the runs up to the
clock's `now`. A test drives time with `ManualClock.advance()`. The whole state is one plain,
JSON-ready dict (`to_json()` / `from_json()`), so the orchestrator keeps it in the database
between kubelet runs.

The shell idioms understood: `echo`, `printf`, `sleep N` (`infinity` too), `exit N`, `true`,
`false`, `cat` (files from volumes or written earlier; with no file and no stdin it exits 0),
`touch`, `rm`, `date`, `hostname`, `env`, `printenv`, `ls`, `tail -f`, `test`/`[ ]`, `seq`, `yes`,
variables and `$(( ))`, `$(…)`, `;` `&&` `||`, `> file`, `while`/`until`/`for`/`if`, `sh -c` and
scripts from volumes. A loop whose state repeats runs forever; a loop that never repeats (a
counter) is played for its first 500 effects, then goes quiet. A loop with output but no sleep
is played at one round a second.

Volumes: a file a run writes under a volume's mount lands in the volume when the clock reaches
the write. The pod's containers that start later read it from an emptyDir; later pods read it
from a persistent volume, whose files a volume store keeps by the claim's uid after the pod is
gone. A run reads the files as they were when it started, plus its own writes: a reader that is
to see a writer's file starts after it (it is listed after it, as the kubelet starts containers in
order).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import ipaddress
import json
import operator
import pickle
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from clusters.objects.validation import QuantityError, quantity_from_json
from clusters.runtime import catalog
from clusters.runtime.base import (
    ContainerObservation,
    PodRef,
    ProbeResult,
    PullResult,
    RuntimeError_,
    VolumeSpec,
)

MAX_LOG_LINES = 1000
MAX_EFFECTS = 500
PROBE_AGENT = "kube-probe/1.37"
HTTP_BODY_SIZES = {200: 615, 404: 153, 500: 177, 503: 190}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told: `clock()` is now, `clock.advance(5)` is five seconds later."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# ---------------------------------------------------------------------------------------------
# Stages: a run's life as data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """When a run is in state `when`, `after` seconds later it moves to `then`, and this happens."""

    when: str
    then: str
    after: float = 0.0
    logs: tuple[str, ...] = ()
    files: tuple[tuple[str, str | None], ...] = ()  # written (text) or removed (None)
    listen: bool | None = None  # the run's ports start (True) or stop (False) answering
    paths: tuple[tuple[str, int], ...] = ()  # HTTP answers that change from here on
    exit_code: int | None = None  # set when `then` is "exited"
    reason: str = ""
    message: str = ""

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in ((), None, "") or key == "after"}

    @classmethod
    def from_dict(cls, data: dict) -> Stage:
        return cls(
            **{
                **data,
                "logs": tuple(data.get("logs", ())),
                "files": tuple(tuple(pair) for pair in data.get("files", ())),
                "paths": tuple(tuple(pair) for pair in data.get("paths", ())),
            }
        )


def _exited(when: str, after: float, code: int, *, reason: str = "", logs: tuple[str, ...] = (), message=""):
    return Stage(when, "exited", after, logs=logs, exit_code=code, reason=reason or _exit_reason(code), message=message)


def _exit_reason(code: int) -> str:
    return "Completed" if code == 0 else "Error"


# ---------------------------------------------------------------------------------------------
# The shell: a command becomes a timeline of effects
# ---------------------------------------------------------------------------------------------

_OPERATORS = ("2>&1", "&&", "||", ">>", "2>", "&>", ">&", ";", "&", "|", ">", "<", "(", ")")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = "{time:%a %b %e %H:%M:%S UTC %Y}"
_BUILTINS = {
    "echo", "printf", "sleep", "exit", "true", "false", ":", "cat", "touch", "rm", "mkdir", "date", "hostname",
    "env", "printenv", "ls", "tail", "test", "[", "[[", "seq", "yes", "sh", "bash", "ash", "export", "cd", "set",
    "trap", "wait", "kill", "ulimit", "umask", "unset", "read", "grep", "wc", "head",
}  # fmt: skip
_SHELLS = {"sh", "bash", "ash"}


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _Forever(Exception):
    """The script blocks for good (`sleep infinity`, `tail -f`, a shell waiting on an open stdin)."""


class _Loop(Exception):
    """The script settled into a cycle: these effects (offsets within one round) repeat forever."""

    def __init__(self, start: float, period: float, effects: list) -> None:
        self.start, self.period, self.effects = start, period, effects


class _Server(Exception):
    """The script handed over to the image's own server program."""


def _tokens(script: str) -> list[str]:
    tokens: list[str] = []
    word: str | None = None
    i = 0
    while i < len(script):
        char = script[i]
        if char in " \t\r\n":
            if word is not None:
                tokens.append(word)
                word = None
            if char == "\n":
                tokens.append(";")
            i += 1
        elif char == "#" and word is None:
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
        elif char in "'\"`":
            end = _closing_quote(script, i)
            word = (word or "") + script[i : end + 1]
            i = end + 1
        elif char == "\\":
            word = (word or "") + script[i : i + 2]
            i += 2
        elif script.startswith("$(", i):
            end = _closing_paren(script, i + 1)
            word = (word or "") + script[i : end + 1]
            i = end + 1
        else:
            op = next((o for o in _OPERATORS if script.startswith(o, i)), None)
            if op and not (op[0] == "2" and word is not None):
                if word is not None:
                    tokens.append(word)
                    word = None
                tokens.append(op)
                i += len(op)
            else:
                word = (word or "") + char
                i += 1
    if word is not None:
        tokens.append(word)
    return tokens


def _closing_quote(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" and quote != "'" else 1
    return min(i, len(text) - 1) if i >= len(text) else i


def _closing_paren(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text[i] in "'\"":
            i = _closing_quote(text, i)
        elif text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


class _Parser:
    """Tokens into nested tuples: sequences of and-or lists of pipelines of commands."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str | None:
        item = self.peek()
        self.pos += 1
        return item

    def expect(self, item: str) -> None:
        if self.peek() == item:
            self.pos += 1

    def sequence(self, *until: str) -> list:
        items = []
        while True:
            while self.peek() in (";", "&"):
                self.pos += 1
            item = self.peek()
            if item is None or item in until or item == ")":
                return items
            before = self.pos
            items.append(self.and_or())
            if self.pos == before:  # nothing consumed: a stray item; skip it rather than loop
                self.pos += 1

    def and_or(self) -> list:
        parts = [("", self.pipeline())]
        while self.peek() in ("&&", "||"):
            op = self.take()
            parts.append((op, self.pipeline()))
        return parts

    def pipeline(self) -> list:
        commands = [self.command()]
        while self.peek() == "|":
            self.pos += 1
            commands.append(self.command())
        return commands

    def command(self) -> tuple:
        item = self.peek()
        if item in ("while", "until"):
            self.pos += 1
            condition = self.sequence("do")
            self.expect("do")
            body = self.sequence("done")
            self.expect("done")
            return ("while", item == "until", condition, body)
        if item == "for":
            self.pos += 1
            name = self.take() or "_"
            words = []
            if self.peek() == "in":
                self.pos += 1
                while self.peek() not in (";", "do", None):
                    words.append(self.take())
            self.sequence("do")
            self.expect("do")
            body = self.sequence("done")
            self.expect("done")
            return ("for", name, words, body)
        if item == "if":
            self.pos += 1
            branches, otherwise = [], []
            while True:
                condition = self.sequence("then")
                self.expect("then")
                branches.append((condition, self.sequence("elif", "else", "fi")))
                keyword = self.take()
                if keyword != "elif":
                    break
            if keyword == "else":
                otherwise = self.sequence("fi")
                self.expect("fi")
            return ("if", branches, otherwise)
        if item in ("(", "{"):
            self.pos += 1
            body = self.sequence(")" if item == "(" else "}")
            self.pos += 1
            return ("group", body)
        words, redirects = [], []
        while (item := self.peek()) is not None and item not in (";", "&", "&&", "||", "|", ")"):
            if item == "}" and not words:
                break
            self.pos += 1
            if item in (">", ">>", "2>", "&>", "<", ">&"):
                redirects.append((item, self.take() or ""))
            elif item != "2>&1":
                words.append(item)
        return ("simple", words, redirects)


def _arithmetic(expression: str, variables: dict[str, str]) -> int:
    """`$(( ))` on integers: + - * / % and comparisons, names read as variables."""
    operators = {
        ast.Add: operator.add,
        ast.Sub: operator.sub,
        ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv,
        ast.Div: operator.floordiv,
        ast.Mod: operator.mod,
        ast.Lt: operator.lt,
        ast.LtE: operator.le,
        ast.Gt: operator.gt,
        ast.GtE: operator.ge,
        ast.Eq: operator.eq,
        ast.NotEq: operator.ne,
    }

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            text = variables.get(node.id, "0")
            return int(text) if text.lstrip("-").isdigit() else 0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            right = value(node.right)
            if isinstance(node.op, ast.FloorDiv | ast.Div | ast.Mod) and right == 0:
                return 0
            return operators[type(node.op)](value(node.left), right)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in operators:
            return int(operators[type(node.ops[0])](value(node.left), value(node.comparators[0])))
        raise ValueError("unsupported arithmetic")

    try:
        return value(ast.parse(expression.replace("$", "").strip() or "0", mode="eval").body)
    except (SyntaxError, ValueError):
        return 0


def _seconds(text: str) -> float | None:
    """`sleep`'s argument: `5`, `0.5`, `10s`, `2m`, `1h`, `1d`; None for `infinity`."""
    if text in ("infinity", "inf"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if not match:
        return 0.0
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


class _Shell:
    """Runs a parsed script on a clock of its own, recording what it does at which offset."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        files: dict[str, str],
        hostname: str,
        entry: dict,
        stdin_open: bool = False,
        instant: bool = False,
        ready: bool = False,
    ) -> None:
        self.variables = dict(env)
        self.exported = list(env)
        self.files = dict(files)
        self.hostname, self.entry, self.stdin_open = hostname, entry, stdin_open
        self.instant, self.ready = instant, ready
        self.now = 0.0
        self.status = 0
        self.effects: list[tuple[float, str, object]] = []
        self.output: list[str] = []  # what an instant run printed (exec probes, `$(…)`)
        self.sink: list[str | None] = [None]  # where stdout goes: None the log, a path, or /dev/null

    # -- effects ------------------------------------------------------------------------------

    def effect(self, kind: str, payload: object) -> None:
        if self.instant:
            return
        self.effects.append((self.now, kind, payload))
        if len(self.effects) > MAX_EFFECTS:
            raise _Forever

    def out(self, *lines: str, error: bool = False) -> None:
        target = None if error else self.sink[-1]
        for line in lines:
            if target == "/dev/null":
                continue
            if target is not None:
                self.files[target] = self.files.get(target, "") + line + "\n"
                self.effect("file", (target, self.files[target]))
            elif self.instant:
                self.output.append(line)
            else:
                self.effect("log", line)

    # -- running ------------------------------------------------------------------------------

    def run_script(self, script: str) -> None:
        self.run_sequence(_Parser(_tokens(script)).sequence())

    def run_sequence(self, items: list) -> None:
        for and_or in items:
            for op, pipeline in and_or:
                if (op == "&&" and self.status != 0) or (op == "||" and self.status == 0):
                    continue
                self.run_pipeline(pipeline)

    def run_pipeline(self, commands: list) -> None:
        for index, command in enumerate(commands):
            self.sink.append("/dev/null" if index < len(commands) - 1 else self.sink[-1])
            try:
                self.run_command(command)
            finally:
                self.sink.pop()

    def run_command(self, command: tuple) -> None:
        kind = command[0]
        if kind == "while":
            self.run_while(*command[1:])
        elif kind == "for":
            _, name, words, body = command
            for value in [field for word in words for field in self.expand(word)]:
                self.variables[name] = value
                self.run_sequence(body)
        elif kind == "if":
            _, branches, otherwise = command
            for condition, body in branches:
                self.run_sequence(condition)
                if self.status == 0:
                    self.run_sequence(body)
                    return
            self.run_sequence(otherwise)
        elif kind == "group":
            self.run_sequence(command[1])
        else:
            self.run_simple(command[1], command[2])

    def run_while(self, until: bool, condition: list, body: list) -> None:
        for _ in range(MAX_EFFECTS):
            start, first_effect = self.now, len(self.effects)
            before = (dict(self.variables), dict(self.files))
            self.run_sequence(condition)
            if (self.status == 0) == until:
                self.status = 0
                return
            self.run_sequence(body)
            if self.instant:
                continue
            if (dict(self.variables), dict(self.files)) == before:
                # The state after one round is the state before it: the loop repeats for good.
                effects = [(offset - start, kind, payload) for offset, kind, payload in self.effects[first_effect:]]
                del self.effects[first_effect:]
                period = self.now - start
                if not effects and period == 0:
                    raise _Forever
                raise _Loop(start, period or 1.0, effects)
        raise _Forever

    def run_simple(self, words: list[str], redirects: list[tuple[str, str]]) -> None:
        argv = [field for word in words for field in self.expand(word)]
        while argv and _ASSIGNMENT.match(argv[0]):
            name, value = argv.pop(0).split("=", 1)
            self.variables[name] = value
            self.status = 0
        if not argv:
            return
        target = self.sink[-1]
        for op, path in redirects:
            path = " ".join(self.expand(path))
            if op in (">", ">>", "&>"):
                target = path
                if op != ">>" and path != "/dev/null":
                    self.files[path] = ""
        self.sink.append(target)
        try:
            self.status = self.call(argv)
        finally:
            self.sink.pop()

    def call(self, argv: list[str]) -> int:
        name = argv[0].rsplit("/", 1)[-1]
        args = argv[1:]
        if argv[0] in self.entry.get("servers", ()) or name in self.entry.get("servers", ()):
            raise _Server
        if name in self.entry.get("exec_ok", {}):
            return self.client(name)
        handler = getattr(self, f"cmd_{name}", None) if name in _BUILTINS else None
        if handler is None:
            handler = {"[": self.cmd_test, "[[": self.cmd_test, ":": self.cmd_true}.get(name)
        if handler is None:
            self.out(f"sh: {argv[0]}: not found", error=True)
            return 127
        return handler(args)

    # -- expansion ----------------------------------------------------------------------------

    def expand(self, word: str) -> list[str]:
        """Quotes, `$VAR`, `${VAR:-x}`, `$(( ))` and `$(…)`; unquoted expansions split on spaces."""
        text, quoted, i = "", False, 0
        while i < len(word):
            char = word[i]
            if char == "'":
                end = _closing_quote(word, i)
                text += word[i + 1 : end]
                quoted, i = True, end + 1
            elif char == '"':
                end = _closing_quote(word, i)
                text += self.expand_dollars(word[i + 1 : end])
                quoted, i = True, end + 1
            elif char == "\\":
                text += word[i + 1 : i + 2]
                i += 2
            elif char in "$`":
                value, i = self.dollar(word, i)
                text += re.sub(r"\s+", "\x01", value)
            else:
                text += char
                i += 1
        fields = [part for part in text.split("\x01") if part]
        return fields if fields or not quoted else [""]

    def expand_dollars(self, text: str) -> str:
        result, i = "", 0
        while i < len(text):
            if text[i] == "\\" and text[i + 1 : i + 2] in ('"', "\\", "$", "`"):
                result += text[i + 1]
                i += 2
            elif text[i] in "$`":
                value, i = self.dollar(text, i)
                result += value
            else:
                result += text[i]
                i += 1
        return result

    def dollar(self, text: str, i: int) -> tuple[str, int]:
        if text[i] == "`":
            end = text.find("`", i + 1)
            end = len(text) if end < 0 else end
            return self.substitute(text[i + 1 : end]), end + 1
        rest = text[i + 1 :]
        if rest.startswith("(("):
            end = text.find("))", i)
            end = len(text) if end < 0 else end
            return str(_arithmetic(self.expand_dollars(text[i + 3 : end]), self.variables)), end + 2
        if rest.startswith("("):
            end = _closing_paren(text, i + 1)
            return self.substitute(text[i + 2 : end]), end + 1
        if rest.startswith("{"):
            end = text.find("}", i)
            end = len(text) if end < 0 else end
            inner = text[i + 2 : end]
            name, _, default = inner.partition(":-")
            if name.startswith("#"):
                return str(len(self.variables.get(name[1:], ""))), end + 1
            return self.variables.get(name) or default, end + 1
        if rest[:1] == "?":
            return str(self.status), i + 2
        if rest[:1] == "$":
            return "1", i + 2
        if rest[:1].isdigit() or rest[:1] in "#@*":
            return ("0" if rest[:1] == "#" else ""), i + 2
        match = _NAME.match(rest)
        if match:
            return self.variables.get(match.group(0), ""), i + 1 + match.end()
        return "$", i + 1

    def substitute(self, script: str) -> str:
        """`$(…)`: run instantly on a copy of this shell and take what it printed."""
        child = _Shell(env={}, files=self.files, hostname=self.hostname, entry=self.entry, instant=True)
        child.variables = dict(self.variables)
        with contextlib.suppress(_Exit, _Forever, _Loop, _Server):
            child.run_script(script)
        return "\n".join(child.output).rstrip("\n")

    # -- commands -----------------------------------------------------------------------------

    def cmd_echo(self, args: list[str]) -> int:
        interpret = False
        while args and args[0] in ("-n", "-e", "-ne", "-en"):
            interpret = interpret or "e" in args[0]
            args = args[1:]
        text = " ".join(args)
        if interpret:
            text = text.replace("\\n", "\n").replace("\\t", "\t")
        self.out(*text.split("\n"))
        return 0

    def cmd_printf(self, args: list[str]) -> int:
        if not args:
            return 1
        template, values = args[0], iter(args[1:])
        text = re.sub(r"%[sd]", lambda _: next(values, ""), template).replace("\\n", "\n").replace("\\t", "\t")
        lines = text.split("\n")
        self.out(*(lines[:-1] if text.endswith("\n") else lines))
        return 0

    def cmd_sleep(self, args: list[str]) -> int:
        seconds = _seconds(args[0]) if args else 0.0
        if seconds is None:
            raise _Forever
        if not self.instant:
            self.now += seconds
        return 0

    def cmd_exit(self, args: list[str]) -> int:
        raise _Exit(int(args[0]) % 256 if args and args[0].lstrip("-").isdigit() else self.status)

    def cmd_true(self, args: list[str]) -> int:
        return 0

    def cmd_false(self, args: list[str]) -> int:
        return 1

    def cmd_cat(self, args: list[str]) -> int:
        paths = [a for a in args if not a.startswith("-")]
        if not paths:
            if self.stdin_open:
                raise _Forever
            return 0  # no tty, no stdin: end of input at once
        status = 0
        for path in paths:
            if path in self.files:
                self.out(*self.files[path].splitlines())
            else:
                self.out(f"cat: can't open '{path}': No such file or directory", error=True)
                status = 1
        return status

    def cmd_head(self, args: list[str]) -> int:
        return self.cmd_cat(args)

    def cmd_touch(self, args: list[str]) -> int:
        for path in args:
            self.files.setdefault(path, "")
            self.effect("file", (path, self.files[path]))
        return 0

    def cmd_rm(self, args: list[str]) -> int:
        force, status = any(a.startswith("-") and "f" in a for a in args), 0
        for path in (a for a in args if not a.startswith("-")):
            if path in self.files:
                del self.files[path]
                self.effect("file", (path, None))
            elif not force:
                self.out(f"rm: can't remove '{path}': No such file or directory", error=True)
                status = 1
        return status

    def cmd_mkdir(self, args: list[str]) -> int:
        return 0

    def cmd_date(self, args: list[str]) -> int:
        self.out(_DATE)
        return 0

    def cmd_hostname(self, args: list[str]) -> int:
        self.out(self.hostname)
        return 0

    def cmd_env(self, args: list[str]) -> int:
        self.out(*(f"{name}={self.variables.get(name, '')}" for name in self.exported))
        return 0

    def cmd_printenv(self, args: list[str]) -> int:
        if not args:
            return self.cmd_env(args)
        values = [self.variables[name] for name in args if name in self.variables]
        self.out(*values)
        return 0 if len(values) == len(args) else 1

    def cmd_export(self, args: list[str]) -> int:
        for arg in args:
            name, _, value = arg.partition("=")
            if value or "=" in arg:
                self.variables[name] = value
            if name not in self.exported:
                self.exported.append(name)
        return 0

    def cmd_unset(self, args: list[str]) -> int:
        for name in args:
            self.variables.pop(name, None)
        return 0

    def cmd_ls(self, args: list[str]) -> int:
        status = 0
        for directory in [a for a in args if not a.startswith("-")] or ["."]:
            if directory in self.files:
                self.out(directory)
                continue
            prefix = directory.rstrip("/") + "/"
            names = sorted({path[len(prefix) :].split("/", 1)[0] for path in self.files if path.startswith(prefix)})
            if names:
                self.out(*names)
            elif directory != ".":
                self.out(f"ls: {directory}: No such file or directory", error=True)
                status = 1
        return status

    def cmd_tail(self, args: list[str]) -> int:
        if any(a in ("-f", "-F") or (a.startswith("-") and "f" in a) for a in args):
            raise _Forever
        return self.cmd_cat([a for a in args if not a.startswith("-") and not a.isdigit()])

    def cmd_seq(self, args: list[str]) -> int:
        numbers = [int(a) for a in args if a.lstrip("-").isdigit()]
        first, last = (1, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[-1]) if numbers else (1, 0)
        self.out(*(str(n) for n in range(first, last + 1)))
        return 0

    def cmd_yes(self, args: list[str]) -> int:
        if self.instant:
            raise _Forever
        raise _Loop(self.now, 1.0, [(0.0, "log", " ".join(args) or "y")])

    def cmd_grep(self, args: list[str]) -> int:
        return 0

    def cmd_wc(self, args: list[str]) -> int:
        return 0

    def cmd_test(self, args: list[str]) -> int:
        args = [a for a in args if a not in ("]", "]]")]
        negate = bool(args) and args[0] == "!"
        args = args[1:] if negate else args
        result = self.evaluate_test(args)
        return int(result == negate)

    def evaluate_test(self, args: list[str]) -> bool:
        if not args:
            return False
        if len(args) == 1:
            return args[0] != ""
        if len(args) == 2:
            flag, value = args
            return {
                "-z": value == "",
                "-n": value != "",
                "-e": value in self.files or any(p.startswith(value.rstrip("/") + "/") for p in self.files),
                "-f": value in self.files,
                "-d": any(p.startswith(value.rstrip("/") + "/") for p in self.files),
                "-s": bool(self.files.get(value)),
            }.get(flag, False)
        left, op, right = args[0], args[1], args[2]
        if op in ("=", "=="):
            return left == right
        if op == "!=":
            return left != right
        numbers = {"-eq": operator.eq, "-ne": operator.ne, "-lt": operator.lt, "-le": operator.le}
        numbers |= {"-gt": operator.gt, "-ge": operator.ge}
        if op in numbers and left.lstrip("-").isdigit() and right.lstrip("-").isdigit():
            return numbers[op](int(left), int(right))
        return False

    def cmd_sh(self, args: list[str]) -> int:
        flags = [a for a in args if a.startswith("-")]
        rest = [a for a in args if not a.startswith("-")]
        if any("c" in flag for flag in flags) and rest:
            self.run_script(rest[0])
            return self.status
        if rest:
            if rest[0] not in self.files:
                self.out(f"sh: can't open '{rest[0]}': No such file or directory", error=True)
                return 2
            self.run_script(self.files[rest[0]])
            return self.status
        if self.stdin_open:
            raise _Forever
        return 0  # an interactive shell with nothing to read ends at once

    cmd_bash = cmd_ash = cmd_sh

    def cmd_cd(self, args: list[str]) -> int:
        return 0

    cmd_set = cmd_trap = cmd_wait = cmd_kill = cmd_ulimit = cmd_umask = cmd_read = cmd_cd

    def client(self, name: str) -> int:
        """A database's own client (`redis-cli ping`, `pg_isready`): answers once the server is ready."""
        if self.ready:
            self.out(self.entry["exec_ok"][name])
            return 0
        self.out(f"{name}: could not connect to server: Connection refused", error=True)
        return 1


# ---------------------------------------------------------------------------------------------
# Programs: what a container's stages are
# ---------------------------------------------------------------------------------------------


@dataclass
class Program:
    """The stages of one run, and how the process treats SIGTERM ("exit" at once, or "ignore" it
    like a shell running as PID 1, until SIGKILL at the end of the grace period)."""

    stages: list[Stage]
    ports: list[int] = field(default_factory=list)
    paths: dict[str, int] = field(default_factory=dict)
    sigterm: str = "ignore"


def _memory_bytes(quantity: object) -> int | None:
    try:
        return int(quantity_from_json(quantity).value) if quantity is not None else None
    except QuantityError:
        return None


def _chain(effects: list, ending: tuple, entry: dict, env: dict[str, str]) -> Program:
    """Timed effects (offset, kind, payload) and how the script ended, as a chain of stages."""
    groups: list[tuple[float, list]] = [(0.0, [])]
    for offset, kind, payload in effects:
        if offset > groups[-1][0]:
            groups.append((offset, []))
        groups[-1][1].append((kind, payload))
    stages, state, at = [], "created", 0.0
    for index, (offset, group) in enumerate(groups):
        then = "running" if index == 0 else f"running-{index}"
        stages.append(_stage(state, then, offset - at, group))
        state, at = then, offset
    match ending:
        case ("exit", code, offset) if offset == at and len(stages) > 1:
            # What the script does at the moment it ends belongs to the exit itself.
            last = stages.pop()
            stages.append(replace(last, then="exited", exit_code=code, reason=_exit_reason(code)))
        case ("exit", code, offset):
            stages.append(_exited(state, offset - at, code))
        case ("loop", start, period, looped):
            offsets = sorted({offset for offset, _, _ in looped} | {0.0})
            by_offset = {o: [(k, p) for offset, k, p in looped if offset == o] for o in offsets}
            stages.append(_stage(state, "loop-0", start - at, by_offset[0.0]))
            for index, offset in enumerate(offsets[1:], 1):
                stages.append(
                    _stage(f"loop-{index - 1}", f"loop-{index}", offset - offsets[index - 1], by_offset[offset])
                )
            stages.append(_stage(f"loop-{len(offsets) - 1}", "loop-0", period - offsets[-1], by_offset[0.0]))
        case ("server", offset):
            server = _server_program(entry, env)

            def renamed(state: str) -> str:
                return state if state == "exited" else f"server-{state}"

            stages.append(Stage(state, renamed("created"), offset - at))
            stages += [replace(s, when=renamed(s.when), then=renamed(s.then)) for s in server.stages]
            return Program(stages, server.ports, server.paths, server.sigterm)
    return Program(stages)


def _stage(when: str, then: str, after: float, group: list) -> Stage:
    logs = tuple(payload for kind, payload in group if kind == "log")
    files = tuple(payload for kind, payload in group if kind == "file")
    return Stage(when, then, after, logs=logs, files=files)


def _shell_program(argv: list[str], entry: dict, *, env, files, hostname, stdin_open) -> Program:
    shell = _Shell(env=env, files=files, hostname=hostname, entry=entry, stdin_open=stdin_open)
    name = argv[0].rsplit("/", 1)[-1]
    if name not in _BUILTINS and argv[0] not in entry.get("servers", ()) and name not in entry.get("exec_ok", {}):
        message = (
            "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
            f'failed: unable to start container process: exec: "{argv[0]}": executable file not found in $PATH: unknown'
        )
        return Program([_exited("created", 0, 128, reason="StartError", message=message)])
    try:
        shell.status = shell.call(argv)
        ending: tuple = ("exit", shell.status, shell.now)
    except _Exit as done:
        ending = ("exit", done.code, shell.now)
    except _Forever:
        ending = ("forever",)
    except _Loop as loop:
        ending = ("loop", loop.start, loop.period, loop.effects)
    except _Server:
        ending = ("server", shell.now)
    return _chain(shell.effects, ending, entry, env)


def _server_program(entry: dict, env: dict[str, str]) -> Program:
    start_logs = tuple(entry.get("start_logs", ()))
    if entry["kind"] == "web":
        tutor = entry is catalog.IMAGES["kube-tutor/web"]  # the teaching image takes knobs from its env
        port = int(env.get("PORT", entry["port"])) if tutor else entry["port"]
        paths = dict(entry["paths"])
        stages = [Stage("created", "running", logs=start_logs, listen=True)]
        knobs = sorted((float(env[name]), name) for name in ("READY_AFTER", "FAIL_AFTER") if tutor and name in env)
        if any(name == "READY_AFTER" for _, name in knobs):
            paths["/ready"] = 503
        state, at = "running", 0.0
        for index, (seconds, name) in enumerate(knobs, 1):
            change = (("/ready", 200),) if name == "READY_AFTER" else (("/healthz", 500),)
            stages.append(Stage(state, f"running-{index}", max(seconds - at, 0.0), paths=change))
            state, at = f"running-{index}", seconds
        return Program(stages, [port], paths, "exit")
    if entry["kind"] == "database":
        required = entry.get("requires_env")
        if required and not any(env.get(name) for name in required["any_of"]):
            failing = [
                Stage("created", "running", logs=start_logs),
                _exited("running", 0, 1, logs=tuple(required["logs"])),
            ]
            return Program(failing, [entry["port"]], sigterm="exit")
        stages = [
            Stage("created", "running", logs=start_logs, listen=False),
            Stage(
                "running", "ready", entry.get("ready_after", 0), logs=tuple(entry.get("ready_logs", ())), listen=True
            ),
        ]
        return Program(stages, [entry["port"]], sigterm="exit")
    return Program([Stage("created", "running", logs=start_logs)])


def _stress_program(args: list[str]) -> tuple[Program, int]:
    """polinux/stress: `--vm N --vm-bytes SIZE [--timeout T]`; returns the program and the memory it takes."""
    options = dict(zip(args[::2], args[1::2], strict=False))
    workers = int(options.get("--vm", "0") or 0)
    size = _memory_bytes(options.get("--vm-bytes", "256M").replace("M", "Mi").replace("G", "Gi")) or 0
    logs = (f"stress: info: [1] dispatching hogs: 0 cpu, 0 io, {workers} vm, 0 hdd",)
    stages = [Stage("created", "running", logs=logs)]
    timeout = _seconds(options.get("--timeout", "infinity").rstrip("s") if "--timeout" in options else "infinity")
    if timeout is not None:
        done = (f"stress: info: [1] successful run completed in {int(timeout)}s",)
        stages.append(_exited("running", timeout, 0, logs=done))
    return Program(stages), workers * size


def program_for(container: dict, *, env: dict[str, str], files: dict[str, str], hostname: str) -> Program:
    """The stages of a run of `container` (a pod spec's container dict), from the catalog and its command."""
    entry = catalog.image_entry(container.get("image", "")) or {"kind": "shell", "command": ["sh"]}
    argv = [*container.get("command", []), *container.get("args", [])] if container.get("command") else None
    argv = argv or [*container.get("args", [])] or list(entry["command"])
    argv = [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(0)[2:-1], m.group(0)), a) for a in argv]
    need = _memory_bytes(entry.get("memory"))
    if entry["kind"] == "stress" and argv[0].rsplit("/", 1)[-1] == "stress":
        program, need = _stress_program(argv[1:])
    elif argv[0] in entry.get("servers", ()) or argv[0].rsplit("/", 1)[-1] in entry.get("servers", ()):
        program = _server_program(entry, env)
    else:
        stdin_open = bool(container.get("stdin"))
        program = _shell_program(argv, entry, env=env, files=files, hostname=hostname, stdin_open=stdin_open)
    limit = _memory_bytes(container.get("resources", {}).get("limits", {}).get("memory"))
    if limit is not None and need is not None and need > limit and program.stages[0].then != "exited":
        # The kernel's OOM killer ends the process once it has allocated past its cgroup's limit.
        program = Program([program.stages[0], _exited(program.stages[0].then, 1.0, 137, reason="OOMKilled")])
    return program


# ---------------------------------------------------------------------------------------------
# The runtime
# ---------------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _render(line: str, moment: datetime, **fields: object) -> str:
    line = re.sub(r"\{time:([^}]*)\}", lambda m: moment.strftime(m.group(1)), line)
    for name, value in fields.items():
        line = line.replace("{" + name + "}", str(value))
    return line


class VolumeStore(Protocol):
    """Where persistent volumes keep their files: path (relative to the volume) → text, by key."""

    def files(self, key: str) -> dict[str, str]: ...

    def write(self, key: str, path: str, text: str | None) -> None:
        """Write a file (None removes it)."""


class StateVolumes:
    """Persistent volumes kept in a runtime's own state, under "persistent_volumes": they outlive
    the pods that mount them, as a Docker volume does."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def files(self, key: str) -> dict[str, str]:
        return dict(self.state.get("persistent_volumes", {}).get(key, {}))

    def write(self, key: str, path: str, text: str | None) -> None:
        files = self.state.setdefault("persistent_volumes", {}).setdefault(key, {})
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text


def _deep_copy(state: dict) -> dict:
    """copy.deepcopy for plain data, four times faster: every kubelet run loads and saves the state."""
    return pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own bytes


class SimulatedRuntime:
    """Implements `clusters.runtime.base.Runtime` for one node, with the lifecycle as data."""

    kind = "simulated"

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        node: str = "",
        pod_cidr: str = "10.244.0.0/24",
        state: dict | None = None,
        volumes: VolumeStore | None = None,
    ) -> None:
        """`volumes` keeps the files of persistent volumes; by default this node's own state does,
        and a caller whose nodes share storage passes one store to every node's runtime."""
        self.clock = clock
        self.state = state or {"node": node, "pod_cidr": pod_cidr, "ids": 0, "images": [], "pods": {}, "runs": {}}
        self.volumes = volumes if volumes is not None else StateVolumes(self.state)

    # -- persistence --------------------------------------------------------------------------

    def to_json(self) -> dict:
        """The whole state as a JSON-ready dict (what NodeRuntimeState.state keeps)."""
        return _deep_copy(self.state)

    @classmethod
    def from_json(
        cls, data: dict | str, *, clock: Callable[[], datetime], node: str = "", volumes: VolumeStore | None = None
    ) -> SimulatedRuntime:
        state = json.loads(data) if isinstance(data, str) else _deep_copy(data)
        runtime = cls(clock, node=node, state=state or None, volumes=volumes)
        runtime.state["node"] = runtime.state.get("node") or node
        return runtime

    # -- sandboxes and images -----------------------------------------------------------------

    def pod_sandbox_ensure(
        self, pod: PodRef, *, hostname: str, volumes: list[VolumeSpec], subdomain: str = "", ports: tuple = ()
    ) -> str:
        """`subdomain` and `ports` name the pod on a network and publish its hostPorts: the
        simulated runtime has no network, so it only hands out an address."""
        pods = self.state["pods"]
        if pod.uid not in pods:
            pods[pod.uid] = {
                "namespace": pod.namespace,
                "name": pod.name,
                "sandbox": pod.sandbox,
                "node": pod.node or self.state["node"],
                "ip": self._free_ip(),
                "hostname": hostname,
                "volumes": {},
            }
        self._volumes_record(pods[pod.uid], volumes)
        return pods[pod.uid]["ip"]

    @staticmethod
    def _volumes_record(sandbox: dict, volumes: list[VolumeSpec]) -> None:
        """ConfigMap and Secret files are written (again); an emptyDir keeps what it holds for as
        long as the pod lives; a persistent volume's files are in the volume store, under its key."""
        for volume in volumes:
            if volume.kind == "files":
                sandbox["volumes"][volume.name] = {"kind": "files", "files": dict(volume.files)}
            elif volume.kind == "persistent":
                sandbox["volumes"][volume.name] = {"kind": "persistent", "key": volume.key}
            else:
                sandbox["volumes"].setdefault(volume.name, {"kind": volume.kind, "files": {}})

    def _free_ip(self) -> str:
        network = ipaddress.ip_network(self.state["pod_cidr"], strict=False)
        taken = {p["ip"] for p in self.state["pods"].values()}
        hosts = list(network.hosts())[1:]  # the first address is the bridge's gateway
        start = self.state.setdefault("next_host", 0)
        for step in range(len(hosts)):
            candidate = str(hosts[(start + step) % len(hosts)])
            if candidate not in taken:
                self.state["next_host"] = (start + step + 1) % len(hosts)
                return candidate
        raise RuntimeError_(f"no free pod IP left in {self.state['pod_cidr']}")

    def image_pull(self, image: str, *, policy: str) -> PullResult:
        entry = catalog.image_entry(image)
        present = image in self.state["images"]
        if policy == "Never" and not present:
            message = f'Container image "{image}" is not present with pull policy of Never'
            return PullResult(False, "ErrImageNeverPull", message)
        if present and policy != "Always":
            return PullResult(True)
        if entry is None:
            return PullResult(False, "ErrImagePull", catalog.pull_error(image))
        if not present:
            self.state["images"].append(image)
        return PullResult(True, pulled=True, size=entry["size"], seconds=entry["pull_seconds"])

    # -- containers ---------------------------------------------------------------------------

    def container_start(
        self, pod: PodRef, container: dict, *, restart: int, env: dict[str, str], volumes: list[VolumeSpec]
    ) -> ContainerObservation:
        sandbox = self.state["pods"].get(pod.uid)
        if sandbox is None:
            raise RuntimeError_(f"no sandbox for pod {pod.namespace}/{pod.name}: ensure it first")
        key = f"{pod.uid}/{container['name']}/{restart}"
        if key in self.state["runs"]:
            return self._observe_run(self.state["runs"][key], self.clock())
        if container["image"] not in self.state["images"]:
            raise RuntimeError_(f'image "{container["image"]}" is not present; pull it first')
        self._volumes_record(sandbox, volumes)
        now = self.clock()
        for other in [r for r in self.state["runs"].values() if r["pod"] == pod.uid]:
            self._advance(other, now)  # what the pod's other containers wrote by now is there to read
        full_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        full_env |= {"HOSTNAME": sandbox["hostname"], **env, "HOME": "/root"}
        files = self._mounted_files(sandbox, container)
        program = program_for(container, env=full_env, files=files, hostname=sandbox["hostname"])
        ref = catalog.image_ref(container["image"])
        self.state["ids"] += 1
        run = {
            "pod": pod.uid,
            "name": container["name"],
            "restart": restart,
            "image": ref.name,
            "image_id": ref.image_id,
            "container_id": "simulated://" + hashlib.sha256(f"{key}/{self.state['ids']}".encode()).hexdigest(),
            "stages": [stage.to_dict() for stage in program.stages],
            "ports": program.ports,
            "named_ports": {p["name"]: p["containerPort"] for p in container.get("ports", []) if p.get("name")},
            "paths": program.paths,
            "sigterm": program.sigterm,
            "listening": False,
            "files": files,
            "mounts": [
                [m["mountPath"].rstrip("/"), m["name"], m.get("subPath", ""), bool(m.get("readOnly"))]
                for m in container.get("volumeMounts", [])
            ],
            "env": full_env,
            "state": "created",
            "since": _iso(now),
            "started_at": None,
            "finished_at": None,
            "exit_code": None,
            "reason": "",
            "message": "",
            "stop": None,
            "logs": [],
        }
        self.state["runs"][key] = run
        self._forget_old_runs(pod.uid, container["name"], restart)
        self._advance(run, now)
        return self._observe_run(run, now)

    def _mounted_files(self, sandbox: dict, container: dict) -> dict[str, str]:
        files = {}
        for mount in container.get("volumeMounts", []):
            base, sub = mount["mountPath"].rstrip("/"), mount.get("subPath", "").strip("/")
            for name, text in self._volume_files(sandbox.get("volumes", {}).get(mount["name"], {})).items():
                if not sub:
                    files[f"{base}/{name}"] = text
                elif name == sub:
                    files[base] = text
                elif name.startswith(sub + "/"):
                    files[f"{base}/{name[len(sub) + 1 :]}"] = text
        return files

    def _volume_files(self, volume: dict) -> dict[str, str]:
        if volume.get("kind") == "persistent":
            return self.volumes.files(volume.get("key", ""))
        return volume.get("files", {})

    def _volume_write(self, run: dict, path: str, text: str | None) -> None:
        """A file a run wrote (or removed) under one of its mounts lands in the volume, where the
        pod's other containers, and a persistent volume's later pods, read it."""
        sandbox = self.state["pods"].get(run["pod"])
        if sandbox is None:
            return
        for base, name, sub, read_only in run.get("mounts", ()):
            if path != base and not path.startswith(base + "/"):
                continue
            volume = sandbox["volumes"].get(name)
            if volume is None or read_only or volume["kind"] == "files":
                return  # a read-only file system: the write stays the run's own
            rest = path[len(base) + 1 :]
            relative = "/".join(part for part in (sub.strip("/"), rest) if part)
            if volume["kind"] == "persistent":
                self.volumes.write(volume.get("key", ""), relative, text)
            elif text is None:
                volume["files"].pop(relative, None)
            else:
                volume["files"][relative] = text
            return

    def _forget_old_runs(self, pod_uid: str, name: str, newest: int) -> None:
        """Keep the newest run and the one before it, as the kubelet's container GC does."""
        runs = self.state["runs"]
        for key in [k for k, r in runs.items() if r["pod"] == pod_uid and r["name"] == name]:
            if runs[key]["restart"] < newest - 1:
                del runs[key]

    def container_stop(self, pod: PodRef, name: str, *, grace_seconds: int) -> None:
        now = self.clock()
        for run in self._runs(pod.uid, name):
            self._advance(run, now)
            if run["state"] == "exited":
                continue
            stop = run["stop"]
            deadline = now + timedelta(seconds=max(grace_seconds, 0))
            if stop is None or deadline < _parse(stop["at"]) + timedelta(seconds=stop["grace"]):
                run["stop"] = {"at": _iso(now), "grace": max(grace_seconds, 0)}
            self._advance(run, now)

    def container_kill(self, pod: PodRef, name: str) -> None:
        """SIGKILL from outside, now: the run ends as one the kernel killed (137, "Error") — its
        program never gets to handle it, and no stop of the kubelet's is pending."""
        now = self.clock()
        for run in self._runs(pod.uid, name):
            self._advance(run, now)
            if run["state"] != "exited":
                self._apply(run, _exited(run["state"], 0, 137), now)

    def pod_remove(self, pod: PodRef) -> None:
        self._forget_pod(pod.uid)

    def _forget_pod(self, uid: str) -> None:
        self.state["pods"].pop(uid, None)
        for key in [k for k, r in self.state["runs"].items() if r["pod"] == uid]:
            del self.state["runs"][key]

    def orphans_remove(self, *, node: str, known_pod_uids: set[str]) -> list[str]:
        here = {uid for uid in self.state["pods"] if self._on_node(uid, node)}
        strangers = (here | {r["pod"] for r in self.state["runs"].values() if self._on_node(r["pod"], node)}) - set(
            known_pod_uids
        )
        for uid in strangers:
            self._forget_pod(uid)
        return sorted(strangers)

    def _on_node(self, pod_uid: str, node: str) -> bool:
        pod = self.state["pods"].get(pod_uid)
        return not node or (pod["node"] if pod else self.state["node"]) in (node, "")

    # -- observing ----------------------------------------------------------------------------

    def observe(self, *, node: str) -> list[ContainerObservation]:
        now = self.clock()
        observations = []
        for run in self.state["runs"].values():
            if not self._on_node(run["pod"], node):
                continue
            self._advance(run, now)
            observations.append(self._observe_run(run, now))
        return sorted(observations, key=lambda o: (o.pod_uid, o.name, -o.restart))

    def next_change(self, *, node: str) -> datetime | None:
        """The earliest moment a run's state will change on its own (an exit, a SIGKILL)."""
        moments = [o.changes_at for o in self.observe(node=node) if o.changes_at]
        return min(moments, default=None)

    def logs(self, pod: PodRef, name: str, *, restart: int, since: datetime | None) -> list[tuple[datetime, str]]:
        run = self.state["runs"].get(f"{pod.uid}/{name}/{restart}")
        if run is None:
            return []
        self._advance(run, self.clock())
        lines = [(datetime.fromisoformat(at), line) for at, line in run["logs"]]
        return [(at, line) for at, line in lines if since is None or at >= since]

    def _runs(self, pod_uid: str, name: str) -> list[dict]:
        return [r for r in self.state["runs"].values() if r["pod"] == pod_uid and r["name"] == name]

    def _observe_run(self, run: dict, now: datetime) -> ContainerObservation:
        state = run["state"] if run["state"] in ("created", "exited") else "running"
        return ContainerObservation(
            pod_uid=run["pod"],
            name=run["name"],
            restart=run["restart"],
            state=state,
            image=run["image"],
            image_id=run["image_id"],
            container_id=run["container_id"],
            started_at=_parse(run["started_at"]),
            finished_at=_parse(run["finished_at"]),
            exit_code=run["exit_code"],
            reason=run["reason"],
            message=run["message"],
            changes_at=self._changes_at(run),
        )

    # -- the clock's work ---------------------------------------------------------------------

    def _stage_from(self, run: dict, state: str) -> Stage | None:
        return next((Stage.from_dict(s) for s in run["stages"] if s["when"] == state), None)

    def _kill_at(self, run: dict) -> tuple[datetime, int, str] | None:
        """When a requested stop ends the run, with which exit code and reason."""
        stop = run["stop"]
        if stop is None:
            return None
        at = _parse(stop["at"])
        if run["sigterm"] == "exit" and stop["grace"] > 0:
            return at, 0, "Completed"
        return at + timedelta(seconds=stop["grace"]), 137, "Error"

    def _changes_at(self, run: dict) -> datetime | None:
        """The next moment this run exits on its own or is killed; log-only stages do not count."""
        if run["state"] == "exited":
            return None
        kill = self._kill_at(run)
        moment, state, seen = _parse(run["since"]), run["state"], set()
        while (stage := self._stage_from(run, state)) is not None and state not in seen:
            seen.add(state)
            moment += timedelta(seconds=stage.after)
            if stage.exit_code is not None:
                return min(moment, kill[0]) if kill else moment
            state = stage.then
        return kill[0] if kill else None

    def _advance(self, run: dict, now: datetime) -> None:
        """Apply every stage (and a pending kill) due at or before `now`, in order."""
        self._skip_repeated_rounds(run, now)
        while run["state"] != "exited":
            stage = self._stage_from(run, run["state"])
            due = _parse(run["since"]) + timedelta(seconds=stage.after) if stage else None
            kill = self._kill_at(run)
            if kill and kill[0] <= now and (due is None or kill[0] <= due):
                at, code, reason = kill
                self._apply(run, _exited(run["state"], 0, code, reason=reason), at)
                return
            if due is None or due > now:
                return
            self._apply(run, stage, due)

    def _skip_repeated_rounds(self, run: dict, now: datetime) -> None:
        """A loop that has gone round many times since the last look: jump over the rounds whose
        output would be trimmed anyway, instead of playing them one by one."""
        state, period, seen, lines = run["state"], 0.0, set(), 0
        while (stage := self._stage_from(run, state)) is not None and state not in seen:
            if stage.exit_code is not None or stage.listen is not None or stage.paths:
                return
            seen.add(state)
            period += stage.after
            lines += len(stage.logs)
            state = stage.then
        if state != run["state"] or period <= 0:
            return  # not a cycle back to where the run is
        kill = self._kill_at(run)
        horizon = min(now, kill[0]) if kill else now
        rounds = int((horizon - _parse(run["since"])).total_seconds() // period)
        keep = MAX_LOG_LINES // max(lines, 1) + 1
        if rounds > keep:
            run["since"] = _iso(_parse(run["since"]) + timedelta(seconds=period * (rounds - keep)))

    def _apply(self, run: dict, stage: Stage, at: datetime) -> None:
        if run["state"] == "created":
            run["started_at"] = _iso(EPOCH if stage.reason == "StartError" else at)
        for line in stage.logs:
            run["logs"].append([_iso(at), _render(line, at)])
        del run["logs"][:-MAX_LOG_LINES]
        for path, text in stage.files:
            if text is None:
                run["files"].pop(path, None)
            else:
                run["files"][path] = text
            self._volume_write(run, path, text)
        if stage.listen is not None:
            run["listening"] = stage.listen
        run["paths"].update(dict(stage.paths))
        run["state"], run["since"] = stage.then, _iso(at)
        if stage.exit_code is not None:
            run.update(
                finished_at=_iso(at),
                exit_code=stage.exit_code,
                reason=stage.reason,
                message=stage.message,
                listening=False,
            )

    # -- probes -------------------------------------------------------------------------------

    def probe(self, pod: PodRef, name: str, probe: dict) -> ProbeResult:
        now = self.clock()
        sandbox = self.state["pods"].get(pod.uid)
        runs = [r for r in self.state["runs"].values() if r["pod"] == pod.uid]
        for run in runs:
            self._advance(run, now)
        live = [r for r in runs if r["state"] not in ("created", "exited")]
        mine = max((r for r in live if r["name"] == name), key=lambda r: r["restart"], default=None)
        if sandbox is None or mine is None:
            return ProbeResult(False, f"container {name} is not running")
        if "exec" in probe:
            return self._probe_exec(mine, probe["exec"].get("command", []))
        action = probe.get("httpGet") or probe.get("tcpSocket") or probe.get("grpc") or {}
        port = action.get("port")
        port = mine["named_ports"].get(port, port) if isinstance(port, str) and not port.isdigit() else int(port or 0)
        host = action.get("host") or sandbox["ip"]
        server = next((r for r in live if r["listening"] and port in r["ports"]), None)
        if "httpGet" in probe:
            return self._probe_http(server, host, port, action, now)
        if server is None:
            if "grpc" in probe:
                return ProbeResult(False, f'timeout: failed to connect service "{host}:{port}" within 1s')
            return ProbeResult(False, f"dial tcp {host}:{port}: connect: connection refused")
        return ProbeResult(True)

    def _probe_http(self, server: dict | None, host: str, port: int, action: dict, now: datetime) -> ProbeResult:
        path = action.get("path", "/") or "/"
        path = path if path.startswith("/") else f"/{path}"
        scheme = action.get("scheme", "HTTP").lower()
        url = f"{scheme}://{host}:{port}{path}"
        if server is None:
            return ProbeResult(False, f'Get "{url}": dial tcp {host}:{port}: connect: connection refused')
        if not server["paths"]:
            return ProbeResult(
                False, f'Get "{url}": net/http: HTTP/1.x transport connection broken: malformed HTTP response'
            )
        status = server["paths"].get(path.split("?", 1)[0], 404)
        entry = catalog.image_entry(server["image"]) or {}
        if entry.get("access_log"):
            gateway = str(next(ipaddress.ip_network(self.state["pod_cidr"], strict=False).hosts()))
            line = _render(
                entry["access_log"],
                now,
                client=gateway,
                method="GET",
                path=path,
                status=status,
                size=HTTP_BODY_SIZES.get(status, 0),
                agent=PROBE_AGENT,
            )
            server["logs"].append([_iso(now), line])
            del server["logs"][:-MAX_LOG_LINES]
        if 200 <= status < 400:
            return ProbeResult(True)
        return ProbeResult(False, f"HTTP probe failed with statuscode: {status}")

    def _probe_exec(self, run: dict, command: list[str]) -> ProbeResult:
        if not command:
            return ProbeResult(False, "no command")
        entry = catalog.image_entry(run["image"]) or {"kind": "shell"}
        shell = _Shell(
            env=run["env"],
            files=run["files"],
            hostname=run["env"].get("HOSTNAME", ""),
            entry={**entry, "servers": ()},
            instant=True,
            ready=run["listening"],
        )
        name = command[0].rsplit("/", 1)[-1]
        if name not in _BUILTINS and name not in entry.get("exec_ok", {}):
            return ProbeResult(
                False,
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{command[0]}": executable file not found in $PATH: unknown',
            )
        try:
            status = shell.call(command)
        except _Exit as done:
            status = done.code
        except (_Forever, _Loop, _Server):
            return ProbeResult(False, f"command {command!r} timed out")
        output = "\n".join(shell.output)
        return ProbeResult(status == 0, output if status != 0 else "")
