"""The language of the simulated shell: tokens, the parser, arithmetic, streams, and the shell
itself (expansion, redirections, pipes, loops, functions), over one run's world (its clock, files,
effects and network). The applets it calls are given to it (clusters.runtime.shell_applets); the
ways to run it are in clusters.runtime.shell."""

from __future__ import annotations

import contextlib
import fnmatch
import operator
import posixpath
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from clusters.runtime import catalog, interpreters
from clusters.runtime.shell_files import (
    RUNTIMES,
    SHELL_BUILTINS,
    FileSystem,
    file_encode,
    image_layer,
    os_of,
    programs_of,
)

MAX_EFFECTS = 500
MAX_ROUNDS = 20_000  # rounds a replayed loop may go through to reach the moment of an injected write
TIMELINE, INSTANT, EXEC = "timeline", "instant", "exec"
Handler = Callable[["Shell", list[str]], int]

# ---------------------------------------------------------------------------------------------
# The network a shell sees
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    server: str = ""


# What a connection whose packets are dropped (a NetworkPolicy denies it) gets: no answer ever, so
# the client waits for its own timeout, or for the kernel to give up connecting.
DROPPED = Answer(-1, "")
# How long Linux tries to connect before ETIMEDOUT: the SYN and its 6 retries (net.ipv4.tcp_syn_retries).
CONNECT_GIVES_UP_SECONDS = 127.0


class Network(Protocol):
    """What `nslookup`, `wget`, `curl` and `ping` reach: names and the HTTP servers behind addresses."""

    nameserver: str

    def lookup(self, name: str) -> list[tuple[str, str]]:
        """(full name, address) pairs for a name, as the pod's resolver finds it; [] when unknown."""

    def http_get(self, address: str, port: int, path: str, *, at: float | None = None) -> Answer | None:
        """The answer of whatever listens there; None when nothing does (connection refused);
        DROPPED when no answer comes (a NetworkPolicy denies the connection). `at`: when, in
        seconds since the asking container started (a timeline asks ahead of time); None for now."""


class NoNetwork:
    """Only the pod's own loopback, where nothing listens."""

    nameserver = "10.96.0.10"

    def lookup(self, name: str) -> list[tuple[str, str]]:
        return [("localhost", "127.0.0.1")] if name == "localhost" else []

    def http_get(self, address: str, port: int, path: str, *, at: float | None = None) -> Answer | None:
        return None


# ---------------------------------------------------------------------------------------------
# Control flow (BaseException: a program's `except Exception` never swallows them)
# ---------------------------------------------------------------------------------------------


class ShellExit(BaseException):
    def __init__(self, code: int) -> None:
        self.code = code


class Forever(BaseException):
    """The script blocks for good (`sleep infinity`, `tail -f`, a read of a stdin nobody writes)."""


class Loop(BaseException):
    """The script settled into a cycle: these effects (offsets within one round) repeat for ever."""

    def __init__(self, start: float, period: float, effects: list) -> None:
        self.start, self.period, self.effects = start, period, effects


class ServerHandover(BaseException):
    """The script handed over to the image's own server program (`argv`)."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv


class Stopped(BaseException):
    """An exec whose client went away: the process is killed."""


class Interrupted(BaseException):
    """Ctrl-C on an exec's terminal."""


class LoopControl(BaseException):
    def __init__(self, kind: str, levels: int) -> None:
        self.kind, self.levels = kind, levels


class FunctionReturn(BaseException):
    def __init__(self, code: int) -> None:
        self.code = code


# ---------------------------------------------------------------------------------------------
# Tokens and the parser
# ---------------------------------------------------------------------------------------------

_OPERATORS = ("2>&1", "&&", "||", ">>", "2>", "&>", ">&", ";;", ";", "&", "|", ">", "<", "(", ")")
_TEST_OPERATORS = ("&&", "||")  # inside [[ ]], ( ) | < > belong to words (a regular expression, a comparison)
_TEST_END = ("", " ", "\t", "\r", "\n", ";", "&", "|", ")", "<", ">")  # what may follow the `]]` that ends a test
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REDIRECTS = (">", ">>", "2>", "&>", "<", ">&", "2>&1")


def tokens(script: str) -> list[str]:
    tokens: list[str] = []
    word: str | None = None
    in_test = False
    i = 0
    while i < len(script):
        char = script[i]
        if tokens and word is None:
            in_test = tokens[-1] == "[[" or (in_test and tokens[-1] != "]]")
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
            end = closing_quote(script, i)
            word = (word or "") + script[i : end + 1]
            i = end + 1
        elif char == "\\":
            if script[i + 1 : i + 2] == "\n":  # a line continued
                i += 2
                continue
            word = (word or "") + script[i : i + 2]
            i += 2
        elif script.startswith("$(", i) or script.startswith("${", i):
            end = closing_paren(script, i + 1) if script[i + 1] == "(" else closing_brace(script, i + 1)
            word = (word or "") + script[i : end + 1]
            i = end + 1
        elif in_test and word is None and script.startswith("]]", i) and script[i + 2 : i + 3] in _TEST_END:
            # `]]` closes the test even with an operator right after it (`[[ -e f ]]; then`), where
            # inside the test `;`, `&` and `|` would belong to words
            tokens.append("]]")
            i += 2
        else:
            operators = _TEST_OPERATORS if in_test else _OPERATORS
            op = next((o for o in operators if script.startswith(o, i)), None)
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


def closing_quote(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if text[i] == "\\" and quote != "'" else 1
    return min(i, len(text) - 1) if i >= len(text) else i


def closing_paren(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text[i] in "'\"":
            i = closing_quote(text, i)
        elif text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


def closing_brace(text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


def unfinished(script: str) -> bool:
    """Whether an interactive line needs more lines: an open quote or an unclosed compound command."""
    i, quotes = 0, False
    while i < len(script):
        if script[i] == "\\":
            i += 2
            continue
        if script[i] in "'\"":
            end = script.find(script[i], i + 1)
            if end < 0:
                quotes = True
                break
            i = end + 1
            continue
        i += 1
    if quotes or script.rstrip().endswith(("\\", "|", "&&", "||")):
        return True
    depth = 0
    for token in tokens(script):
        if token in ("while", "until", "for", "if", "{", "case"):
            depth += 1
        elif token in ("done", "fi", "}", "esac"):
            depth -= 1
    return depth > 0


class Parser:
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
            while self.peek() == ";":  # `a &&` followed by a newline
                self.pos += 1
            parts.append((op, self.pipeline()))
        return parts

    def pipeline(self) -> tuple:
        negate = False
        while self.peek() == "!":
            self.pos += 1
            negate = not negate
        commands = [self.command()]
        while self.peek() == "|":
            self.pos += 1
            while self.peek() == ";":
                self.pos += 1
            commands.append(self.command())
        return (negate, commands)

    def redirects(self) -> list:
        found = []
        while self.peek() in _REDIRECTS:
            op = self.take()
            found.append((op, "" if op == "2>&1" else self.take() or ""))
        return found

    def command(self) -> tuple:
        item = self.peek()
        if item in ("while", "until"):
            self.pos += 1
            condition = self.sequence("do")
            self.expect("do")
            body = self.sequence("done")
            self.expect("done")
            return ("while", item == "until", condition, body, self.redirects())
        if item == "for":
            self.pos += 1
            name = self.take() or "_"
            words = []
            if self.peek() == "in":
                self.pos += 1
                while self.peek() not in (";", "do", None):
                    words.append(self.take())
            else:
                words = None
            self.sequence("do")
            self.expect("do")
            body = self.sequence("done")
            self.expect("done")
            return ("for", name, words, body, self.redirects())
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
            return ("if", branches, otherwise, self.redirects())
        if item in ("(", "{"):
            self.pos += 1
            body = self.sequence(")" if item == "(" else "}")
            self.pos += 1
            return ("group", body, item == "(", self.redirects())
        if item == "case":
            self.pos += 1
            subject = self.take() or ""
            self.expect("in")
            branches = []
            while True:
                while self.peek() in (";", ";;"):
                    self.pos += 1
                if self.peek() in ("esac", None):
                    self.pos += 1
                    break
                self.expect("(")
                patterns = []
                while (part := self.take()) not in (")", None):
                    if part != "|":
                        patterns.append(part)
                branches.append((patterns, self.sequence(";;", "esac")))
            return ("case", subject, branches, self.redirects())
        if item == "[[":
            self.pos += 1
            words = []
            while (part := self.take()) is not None and part != "]]":
                words.append(part)
            return ("simple", ["[[", *words, "]]"], [])
        if item is not None and NAME.fullmatch(item) and self.tokens[self.pos + 1 : self.pos + 3] == ["(", ")"]:
            self.pos += 3
            while self.peek() == ";":
                self.pos += 1
            return ("function", item, self.command())
        words, redirects = [], []
        while (item := self.peek()) is not None and item not in (";", ";;", "&", "&&", "||", "|", ")"):
            if item == "}" and not words:
                break
            self.pos += 1
            if item in _REDIRECTS:
                redirects.append((item, "" if item == "2>&1" else self.take() or ""))
            elif item == "(" and words and _ASSIGNMENT.match(words[-1]) and words[-1].endswith("="):
                elements = []
                while (part := self.take()) is not None and part != ")":
                    if part != ";":
                        elements.append(part)
                words[-1] = ("array", words[-1][:-1], elements)
            else:
                words.append(item)
        return ("simple", words, redirects)


def arithmetic(expression: str, variables: dict[str, str]) -> int:
    """`$(( ))` on integers: + - * / % ** and comparisons, && || !, names read as variables."""
    import ast

    operators = {
        ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Div: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.Lt: operator.lt,
        ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne,
        ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
        ast.RShift: operator.rshift,
    }  # fmt: skip

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            text = variables.get(node.id, "0")
            return int(text) if text.strip().lstrip("-").isdigit() else 0
        if isinstance(node, ast.UnaryOp):
            operand = value(node.operand)
            return (
                -operand
                if isinstance(node.op, ast.USub)
                else int(not operand)
                if isinstance(node.op, ast.Not)
                else operand
            )
        if isinstance(node, ast.BoolOp):
            results = [value(v) for v in node.values]
            return int(all(results) if isinstance(node.op, ast.And) else any(results))
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            right = value(node.right)
            if isinstance(node.op, ast.FloorDiv | ast.Div | ast.Mod) and right == 0:
                return 0
            if isinstance(node.op, ast.Pow) and right > 64:
                return 0
            left = value(node.left)
            if isinstance(node.op, ast.FloorDiv | ast.Div):
                return int(left / right)  # C's division truncates toward zero
            return operators[type(node.op)](left, right)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in operators:
            return int(operators[type(node.ops[0])](value(node.left), value(node.comparators[0])))
        raise ValueError("unsupported arithmetic")

    text = expression.replace("$", "").strip() or "0"
    text = text.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    try:
        return value(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, RecursionError):
        return 0


def sleep_seconds(text: str) -> float | None:
    """`sleep`'s argument: `5`, `0.5`, `10s`, `2m`, `1h`, `1d`; None for `infinity`."""
    if text in ("infinity", "inf"):
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", text)
    if not match:
        return 0.0
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------


class Input:
    def read(self) -> str:
        return ""

    def readline(self) -> str | None:
        """A line with its newline; "" for a last line without one; None at the end."""
        return None


class TextInput(Input):
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def read(self) -> str:
        rest = self.text[self.pos :]
        self.pos = len(self.text)
        return rest

    def readline(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end + 1
        line = self.text[self.pos : end]
        self.pos = end
        return line


class OpenInput(Input):
    """A container's stdin left open (`stdin: true`) that nobody writes to: a read waits for ever."""

    def read(self) -> str:
        raise Forever

    def readline(self) -> str | None:
        raise Forever


class Sink:
    def write(self, text: str) -> None:
        pass


class Discard(Sink):
    pass


class Capture(Sink):
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        return "".join(self.parts)


class LogSink(Sink):
    """A timeline's stdout and stderr: each complete line is a log effect at the moment it is written."""

    def __init__(self, world: World) -> None:
        self.world, self.buffer = world, ""

    def write(self, text: str) -> None:
        self.buffer += text
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self.world.effect("log", line)

    def flush(self) -> None:
        if self.buffer:
            line, self.buffer = self.buffer, ""
            self.world.effect("log", line)


class FileSink(Sink):
    def __init__(self, shell: Shell, path: str) -> None:
        self.shell, self.path = shell, path

    def write(self, text: str) -> None:
        error = self.shell.world.fs.write(self.path, text, append=True)
        if error:
            self.shell.stderr.write(f"{self.shell.name}: write error: {error}\n")


class StreamSink(Sink):
    def __init__(self, emit: Callable[[int, str], None], stream: int) -> None:
        self.emit, self.stream = emit, stream

    def write(self, text: str) -> None:
        if text:
            self.emit(self.stream, text)


# ---------------------------------------------------------------------------------------------
# One run's world: what every shell (and subshell) of it shares
# ---------------------------------------------------------------------------------------------


@dataclass
class Container:
    """What a container gives the processes in it."""

    entry: dict  # the image's catalog entry
    env: dict[str, str]
    hostname: str
    files: dict[str, str] = field(default_factory=dict)  # the container's own files, stored form
    system: dict[str, str] = field(default_factory=dict)  # kubelet-managed files (/etc/hosts, …)
    mounts: tuple[str, ...] = ()  # every mount point (a directory, unless a subPath mounts one file)
    read_only: tuple[str, ...] = ()  # mount points mounted read-only
    network: Network = field(default_factory=NoNetwork)
    user: tuple[int, int, tuple[int, ...]] = (0, 0, ())  # uid, gid, supplementary groups
    processes: tuple[tuple[int, str], ...] = ()  # (pid, command line) of what already runs
    image: str = ""  # the image reference
    ip: str = ""
    workdir: str = "/"
    stdin_open: bool = False  # the container's own stdin (`stdin: true`)
    ready: bool = False  # the image's server answers (its clients' `exec_ok` replies)

    @property
    def version(self) -> str:
        reference = self.image.split("@", 1)[0]
        last = reference.rsplit("/", 1)[-1]
        return last.split(":", 1)[1] if ":" in last else ""


class World:
    def __init__(
        self,
        container: Container,
        *,
        mode: str,
        events: tuple = (),
        record_from: float | None = None,
        clock: Callable[[], datetime] | None = None,
        on_change: Callable[[str, str | None, bool], None] | None = None,
        handlers: dict[str, Handler] | None = None,
    ) -> None:
        self.container, self.mode = container, mode
        self.handlers = handlers or {}  # the applets, by name
        self.entry = container.entry
        self.hostname = container.hostname
        self.network = container.network
        self.clock = clock
        self.now = 0.0
        self.effects: list[tuple[float, str, object]] = []
        self.events = deque(sorted(events, key=lambda event: event[0]))
        self.record_from = record_from
        self.log: LogSink | None = None
        self.stop = threading.Event()
        self.interrupt = threading.Event()
        self.next_pid = max((pid for pid, _ in container.processes), default=1) + 5
        self.network_used = False  # what it did depends on the network (a replay when a server starts)
        self.network_settles = 0.0  # until when (offset) the answers it got may still change
        self.checkpoint: Callable[[], None] = lambda: None  # an exec saves its writes
        self.refresh: Callable[[], None] = lambda: None  # an exec sees what others wrote since
        base = image_layer(container.entry) | container.system
        for mount in (*container.mounts, *container.read_only):
            if mount not in container.files:
                base[mount.rstrip("/") + "/"] = ""
        self.fs = FileSystem(container.files, base=base, read_only=container.read_only, on_change=on_change)
        if mode == TIMELINE and on_change is None:
            self.fs.on_change = self._file_effect

    # -- time and effects --------------------------------------------------------------------

    def replaying(self) -> bool:
        """Whether what happens now is still the past of a replayed timeline (not recorded): the
        writes from outside are not all in yet, or it is not later than the moment it resumes at."""
        return bool(self.events) or (self.record_from is not None and self.now <= self.record_from)

    def effect(self, kind: str, payload: object) -> None:
        if self.mode != TIMELINE or self.replaying():
            return
        self.effects.append((self.now, kind, payload))
        if len(self.effects) > MAX_EFFECTS:
            raise Forever

    def _file_effect(self, path: str, text: str | None, append: bool) -> None:
        self.effect("append" if append else "file", (path, file_encode(text) if text is not None else None))

    def moment(self) -> datetime | None:
        """The wall-clock moment (exec and probes); None in a timeline, whose dates are placeholders."""
        return self.clock() if self.clock and self.mode != TIMELINE else None

    def sleep(self, seconds: float | None) -> None:
        if self.mode == EXEC:
            self.checkpoint()
            self._wait(seconds)
            self.refresh()
            return
        if seconds is None:
            raise Forever
        if self.mode == TIMELINE:
            if self.log:
                self.log.flush()
            self.now += seconds
            self.catch_up(self.now)

    def _wait(self, seconds: float | None) -> None:
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            if self.stop.wait(min(remaining, 0.2) if remaining is not None else 0.2):
                raise Stopped
            if self.interrupt.is_set():
                self.interrupt.clear()
                raise Interrupted

    def catch_up(self, until: float) -> None:
        """Injected writes whose moment has come: what the script reads from now on."""
        while self.events and self.events[0][0] < until:
            _, path, text = self.events.popleft()
            self.fs.inject(path, text)

    def skip_rounds(self, start: float, period: float) -> None:
        """A loop round that changed nothing, replayed before an injected write: jump over the
        identical rounds up to it (or to the moment recording starts)."""
        target = self.events[0][0] if self.events else self.record_from or 0.0
        if period <= 0:
            if not self.events:
                raise Forever
            self.now = max(self.now, target)
            _, path, text = self.events.popleft()
            self.fs.inject(path, text)
            if not self.events and self.record_from is not None and self.now >= self.record_from:
                self.record_from = None  # what the busy wait does once the write is there is new
            return
        rounds = int((target - self.now) // period)
        if rounds > 0:
            self.now += rounds * period

    def http_get(self, address: str, port: int, path: str) -> Answer | None:
        """GET through the pod's network, at this moment of the shell's clock."""
        self.network_used = True
        answer = self.network.http_get(address, port, path, at=self.now if self.mode == TIMELINE else None)
        settles = getattr(self.network, "settles_at", None)  # when what it answers next changes, if it knows
        if settles is not None and settles > self.network_settles:
            self.network_settles = settles
        return answer

    def pid(self) -> int:
        self.next_pid += 1
        return self.next_pid


# ---------------------------------------------------------------------------------------------
# The shell
# ---------------------------------------------------------------------------------------------


class Shell:
    def __init__(
        self,
        world: World,
        *,
        variables: dict[str, str],
        exported: list[str],
        stdin: Input,
        stdout: Sink,
        stderr: Sink,
        name: str = "sh",
        args: list[str] | None = None,
        cwd: str = "/",
    ) -> None:
        self.world = world
        self.variables = dict(variables)
        self.exported = list(exported)
        self.arrays: dict[str, list[str]] = {}
        self.functions: dict[str, tuple] = {}
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.name = name
        self.args = list(args or [])
        self.cwd = cwd
        self.status = 0
        self.errexit = self.xtrace = False
        self.conditions = 0  # inside an if/while condition or an && / || list: `set -e` does not apply
        self.applet = ""  # the name the running applet was called by (several share a handler)
        self.reading = False  # reading its commands from stdin, line by line
        self.substituted: int | None = None  # the status of the last $(…) of the command being expanded
        # Which shell this is, for its prompt and its messages: GNU bash (Debian's, or the bash
        # image's), dash (Debian's sh) or busybox ash (whose `bash`, in busybox images, is ash too).
        kind = os_of(world.entry)
        real_bash = kind == "debian" or "bash" in world.entry.get("programs", ())
        self.flavor = "bash" if name == "bash" and real_bash else "dash" if kind == "debian" else "ash"

    # -- output --------------------------------------------------------------------------------

    def write(self, text: str) -> None:
        self.stdout.write(text)

    def say(self, *lines: str) -> None:
        for line in lines:
            self.stdout.write(line + "\n")

    def error(self, line: str) -> None:
        self.stderr.write(line + "\n")

    def path(self, name: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, name)).replace("//", "/") if name else self.cwd

    def moment(self) -> datetime | None:
        return self.world.moment()

    @contextlib.contextmanager
    def redirected(self, stdin: Input | None = None, stdout: Sink | None = None, stderr: Sink | None = None):
        saved = self.stdin, self.stdout, self.stderr
        self.stdin = stdin or self.stdin
        self.stdout = stdout or self.stdout
        self.stderr = stderr or self.stderr
        try:
            yield
        finally:
            self.stdin, self.stdout, self.stderr = saved

    def child(self, *, name: str | None = None, args: list[str] | None = None, everything: bool = False) -> Shell:
        """A new shell process: the environment (or, for a subshell, every variable) carries over."""
        names = list(self.variables) if everything else self.exported
        variables = {key: self.variables[key] for key in names if key in self.variables}
        made = Shell(
            self.world,
            variables=variables,
            exported=list(self.exported),
            stdin=self.stdin,
            stdout=self.stdout,
            stderr=self.stderr,
            name=name or self.name,
            args=args,
            cwd=self.cwd,
        )
        if everything:
            made.arrays = {key: list(value) for key, value in self.arrays.items()}
            made.functions = dict(self.functions)
            made.args, made.errexit, made.xtrace = list(self.args), self.errexit, self.xtrace
            made.flavor = self.flavor
        return made

    def state(self) -> tuple:
        return (dict(self.variables), {k: list(v) for k, v in self.arrays.items()}, self.cwd, self.world.fs.snapshot())

    # -- running -------------------------------------------------------------------------------

    def run_script(self, script: str) -> int:
        self.run_sequence(Parser(tokens(script)).sequence())
        return self.status

    def run_sequence(self, items: list) -> None:
        for and_or in items:
            self.run_and_or(and_or)

    def run_and_or(self, and_or: list) -> None:
        ran_last = False
        for index, (op, pipeline) in enumerate(and_or):
            if (op == "&&" and self.status != 0) or (op == "||" and self.status == 0):
                continue
            tested = index < len(and_or) - 1
            self.conditions += tested
            try:
                self.run_pipeline(pipeline)
            finally:
                self.conditions -= tested
            ran_last = not tested
        # `set -e`: a failure ends the script, unless it was tested (if, while, && ||, !).
        if self.errexit and ran_last and self.status != 0 and not self.conditions and not and_or[-1][1][0]:
            raise ShellExit(self.status)

    def run_pipeline(self, pipeline: tuple) -> None:
        negate, commands = pipeline
        if negate:
            self.conditions += 1
        try:
            source = self.stdin
            for index, command in enumerate(commands):
                last = index == len(commands) - 1
                capture = None if last else Capture()
                with self.redirected(stdin=source, stdout=capture):
                    self.run_command(command)
                if capture is not None:
                    source = TextInput(capture.text())
        finally:
            if negate:
                self.conditions -= 1
        if negate:
            self.status = int(self.status == 0)

    def run_command(self, command: tuple) -> None:
        kind = command[0]
        if kind == "simple":
            self.run_simple(command[1], command[2])
            return
        if kind == "function":
            self.functions[command[1]] = command[2]
            self.status = 0
            return
        redirects = command[-1]
        streams = self.open_redirects(redirects)
        if streams is None:
            return
        with self.redirected(*streams):
            if kind == "while":
                self.run_while(*command[1:4])
            elif kind == "for":
                self.run_for(command[1], command[2], command[3])
            elif kind == "if":
                self.run_if(command[1], command[2])
            elif kind == "case":
                self.run_case(command[1], command[2])
            elif kind == "group":
                if command[2]:  # ( … ): a subshell, whose variables and exit stay its own
                    sub = self.child(everything=True)
                    try:
                        sub.run_sequence(command[1])
                        self.status = sub.status
                    except ShellExit as done:
                        self.status = done.code
                else:
                    self.run_sequence(command[1])

    def run_if(self, branches: list, otherwise: list) -> None:
        for condition, body in branches:
            self.conditions += 1
            try:
                self.run_sequence(condition)
            finally:
                self.conditions -= 1
            if self.status == 0:
                self.run_sequence(body)
                return
        self.status = 0
        self.run_sequence(otherwise)

    def run_case(self, subject: str, branches: list) -> None:
        value = " ".join(self.expand(subject))
        self.status = 0
        for patterns, body in branches:
            if any(fnmatch.fnmatchcase(value, " ".join(self.expand(p)) or p) for p in patterns):
                self.run_sequence(body)
                return

    def run_for(self, name: str, words: list | None, body: list) -> None:
        values = self.args if words is None else [part for word in words for part in self.expand(word)]
        self.status = 0
        for value in values:
            self.variables[name] = value
            try:
                self.run_sequence(body)
            except LoopControl as control:
                if control.levels > 1:
                    raise LoopControl(control.kind, control.levels - 1) from None
                if control.kind == "break":
                    return

    def run_while(self, until: bool, condition: list, body: list) -> None:
        world = self.world
        limit = MAX_ROUNDS if world.replaying() else MAX_EFFECTS
        for rounds in range(limit):
            start, first_effect = world.now, len(world.effects)
            started_live = not world.replaying()
            before = self.state() if world.mode == TIMELINE else None
            self.conditions += 1
            try:
                self.run_sequence(condition)
            finally:
                self.conditions -= 1
            if (self.status == 0) == until:
                self.status = 0
                return
            try:
                self.run_sequence(body)
            except LoopControl as control:
                if control.levels > 1:
                    raise LoopControl(control.kind, control.levels - 1) from None
                if control.kind == "break":
                    self.status = 0
                    return
            if world.mode == EXEC:
                if rounds % 200 == 199:
                    world._wait(0.01)  # a loop that never sleeps must not hold the web process's CPU
                continue
            if world.mode != TIMELINE:
                continue
            if self.state() != before:
                continue
            period = world.now - start
            if world.replaying():
                world.skip_rounds(start, period)
                continue
            if not started_live:
                continue
            if world.now <= world.network_settles:  # a server it waits for answers from then: round by round
                world.now = max(world.now, world.network_settles) if period == 0 else world.now
                continue
            # The state after one round is the state before it: the loop repeats for good.
            effects = [(offset - start, kind, payload) for offset, kind, payload in world.effects[first_effect:]]
            del world.effects[first_effect:]
            if not effects and period == 0:
                raise Forever
            raise Loop(start, period or 1.0, effects)
        raise Forever

    def open_redirects(self, redirects: list) -> tuple | None:
        """The streams redirections give a command; None (and status 1) when one cannot be opened."""
        stdin, stdout, stderr = self.stdin, self.stdout, self.stderr
        for op, target in redirects:
            if op == "2>&1":
                stderr = stdout
                continue
            if op == ">&":
                if target == "2":
                    stdout = stderr
                elif target == "1":
                    stderr = stdout
                continue
            path_text = " ".join(self.expand(target))
            if op == "<":
                if path_text == "/dev/null":
                    stdin = TextInput("")
                    continue
                text = self.world.fs.read(self.path(path_text))
                if text is None:
                    self.error(f"{self.name}: can't open '{path_text}': No such file or directory")
                    self.status = 1
                    return None
                stdin = TextInput(text)
                continue
            sink = self.sink_for(path_text, append=op == ">>")
            if sink is None:
                self.status = 1
                return None
            if op in (">", ">>"):
                stdout = sink
            elif op == "2>":
                stderr = sink
            elif op == "&>":
                stdout = stderr = sink
        return stdin, stdout, stderr

    def sink_for(self, name: str, *, append: bool) -> Sink | None:
        if name == "/dev/null":
            return Discard()
        if name in ("/dev/stdout", "/proc/self/fd/1"):
            return self.stdout
        if name in ("/dev/stderr", "/proc/self/fd/2"):
            return self.stderr
        path = self.path(name)
        error = self.world.fs.write(path, "", append=True) if append else self.world.fs.write(path, "")
        if error:
            reason = "nonexistent directory" if error == "nonexistent directory" else error
            self.error(f"{self.name}: can't create {name}: {reason}")
            return None
        return FileSink(self, path)

    def run_simple(self, words: list, redirects: list) -> None:
        assignments: list[tuple[str, object]] = []
        argv: list[str] = []
        self.substituted = None
        for word in words:
            if isinstance(word, tuple):  # name=(a b c)
                assignments.append((word[1], [part for w in word[2] for part in self.expand(w)]))
            elif not argv and _ASSIGNMENT.match(word):
                name, value = word.split("=", 1)
                assignments.append((name, self.expand_assignment(value)))
            else:
                argv.extend(self.expand(word))
        substituted = self.substituted
        streams = self.open_redirects(redirects)
        if streams is None:
            return
        if not argv:
            for name, value in assignments:
                self.assign(name, value)
            self.status = substituted if substituted is not None else 0
            return
        saved = {name: self.variables.get(name) for name, _ in assignments}
        for name, value in assignments:
            self.assign(name, value)
        if self.xtrace:
            self.stderr.write("+ " + " ".join(argv) + "\n")
        try:
            with self.redirected(*streams):
                self.status = self.call(argv)
        finally:
            if argv[0] not in ("export", "readonly"):
                for name, old in saved.items():
                    if old is None:
                        self.variables.pop(name, None)
                    else:
                        self.variables[name] = old

    def assign(self, name: str, value: object) -> None:
        if isinstance(value, list):
            self.arrays[name] = value
        else:
            self.variables[name] = value

    def call(self, argv: list[str]) -> int:
        """Run one command: a function, a builtin, or a program of the image."""
        name = argv[0].rsplit("/", 1)[-1]
        args = argv[1:]
        if argv[0] in self.functions:
            return self.call_function(argv[0], args)
        entry = self.world.entry
        wrapper = entry.get("wrapper")
        if wrapper and name == wrapper["script"]:
            return self.call(catalog.unwrap(entry, argv)) if len(argv) > 1 or wrapper.get("program") else 0
        if catalog.is_server(entry, argv):
            raise ServerHandover(argv)
        if name in entry.get("exec_ok", {}):
            return self.client(name, args)
        builtin = name in SHELL_BUILTINS and "/" not in argv[0]
        if builtin or name in programs_of(entry):
            handler = self.world.handlers.get(name)
            if handler is not None:
                previous, self.applet = self.applet, name
                try:
                    return handler(self, args)
                finally:
                    self.applet = previous
            if name in self.runtimes() or name.startswith("perl5"):
                return self.runtime(name, args)
            if name in entry.get("programs", ()):
                self.error(f"{name}: the simulated runtime does not model this program")
                return 1
        if "/" in argv[0] and self.world.fs.is_file(self.path(argv[0])):
            return self.run_file(self.path(argv[0]), args)
        return self.not_found(argv[0])

    def not_found(self, command: str) -> int:
        if self.flavor == "bash":  # bash names the line of a script; a prompt's line needs no number
            self.error(
                f"bash: {command}: command not found" if self.reading else f"bash: line 1: {command}: command not found"
            )
        elif self.flavor == "dash":
            self.error(f"{self.name}: 1: {command}: not found")
        else:
            self.error(f"{self.name}: {command}: not found")
        return 127

    def runtimes(self) -> dict[str, str]:
        return {
            name: RUNTIMES.get(name, "perl")
            for name in self.world.entry.get("runtimes", ())
            if name in RUNTIMES or name.startswith("perl5")
        }

    def call_function(self, name: str, args: list[str]) -> int:
        saved = self.args
        self.args = list(args)
        try:
            self.run_command(self.functions[name])
        except FunctionReturn as returned:
            self.status = returned.code
        finally:
            self.args = saved
        return self.status

    def run_file(self, path: str, args: list[str]) -> int:
        text = self.world.fs.read(path) or ""
        first = text.split("\n", 1)[0]
        interpreter = first[2:].strip().split() if first.startswith("#!") else ["/bin/sh"]
        program = interpreter[0].rsplit("/", 1)[-1]
        if program == "env" and len(interpreter) > 1:
            program = interpreter[1]
        if program in ("sh", "bash", "ash", "dash"):
            return self.shell_process(program if program != "dash" else "sh", [path, *args])
        return self.call([program, path, *args])

    # -- expansion -----------------------------------------------------------------------------

    def expand(self, word: str, *, globbing: bool = True) -> list[str]:
        """Quotes, `$VAR`, `${…}`, `$(( ))`, `$(…)`, globs; unquoted expansions split on spaces."""
        text, quoted, glob, i = "", False, False, 0
        while i < len(word):
            char = word[i]
            if char == "'":
                end = closing_quote(word, i)
                text += word[i + 1 : end].replace("\x01", " ")
                quoted, i = True, end + 1
            elif char == '"':
                end = closing_quote(word, i)
                inner = word[i + 1 : end]
                if inner in ("$@",) and self.args:
                    text += "\x01".join(self.args)
                else:
                    text += self.expand_dollars(inner).replace("\x01", " ")
                quoted, i = True, end + 1
            elif char == "\\":
                text += word[i + 1 : i + 2]
                i += 2
            elif char in "$`":
                value, i = self.dollar(word, i)
                text += re.sub(r"\s+", "\x01", value)
            else:
                glob = glob or char in "*?"
                text += char
                i += 1
        glob = glob or (bool(re.search(r"\[[^\]]+\]", word)) and word not in ("[", "[["))
        fields = [part for part in text.split("\x01") if part]
        if glob and globbing:
            fields = [match for part in fields for match in self.glob(part)]
        return fields if fields or not quoted else [""]

    def expand_assignment(self, value: str) -> str:
        """The value of NAME=value: expanded, never split or globbed."""
        return " ".join(self.expand(value, globbing=False)) if value else ""

    def expand_test_word(self, word: str) -> str:
        """Inside [[ ]] words are expanded but neither split nor globbed."""
        if word in ("&&", "||", "!", "(", ")", "<", ">"):
            return word
        return " ".join(self.expand(word, globbing=False))

    def glob(self, pattern: str) -> list[str]:
        if not any(c in pattern for c in "*?["):
            return [pattern]
        absolute = pattern.startswith("/")
        base = self.path(pattern)
        directory = posixpath.dirname(base)
        matches = [
            posixpath.join(directory, name) for name in self.world.fs.listdir(directory)
            if fnmatch.fnmatchcase(name, posixpath.basename(base)) and not name.startswith(".")
        ]  # fmt: skip
        if not matches:
            return [pattern]
        if not absolute:
            prefix = self.cwd.rstrip("/") + "/"
            matches = [m[len(prefix) :] if m.startswith(prefix) else m for m in matches]
        return sorted(matches)

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
            return str(arithmetic(self.expand_dollars(text[i + 3 : end]), self.variables)), end + 2
        if rest.startswith("("):
            end = closing_paren(text, i + 1)
            return self.substitute(text[i + 2 : end]), end + 1
        if rest.startswith("{"):
            end = closing_brace(text, i + 1)
            return self.parameter(text[i + 2 : end]), end + 1
        if rest[:1] == "?":
            return str(self.status), i + 2
        if rest[:1] == "$":
            return "1", i + 2
        if rest[:1] == "#":
            return str(len(self.args)), i + 2
        if rest[:1] in "@*":
            return " ".join(self.args), i + 2
        if rest[:1].isdigit():
            index = int(rest[0])
            value = self.name if index == 0 else self.args[index - 1] if index <= len(self.args) else ""
            return value, i + 2
        match = NAME.match(rest)
        if match:
            return self.variables.get(match.group(0), ""), i + 1 + match.end()
        return "$", i + 1

    def parameter(self, inner: str) -> str:
        """${…}: defaults, lengths, prefix and suffix removal, arrays."""
        if inner.startswith("#"):
            name = inner[1:]
            array = re.fullmatch(r"([A-Za-z_]\w*)\[[@*]\]", name)
            if array:
                return str(len(self.arrays.get(array.group(1), [])))
            return str(len(self.lookup(name)))
        array = re.fullmatch(r"([A-Za-z_]\w*)\[(.*)\]", inner)
        if array:
            values = self.arrays.get(array.group(1))
            if values is None:
                values = [self.variables[array.group(1)]] if array.group(1) in self.variables else []
            index = array.group(2)
            if index in ("@", "*"):
                return " ".join(values)
            position = arithmetic(self.expand_dollars(index), self.variables)
            return values[position] if -len(values) <= position < len(values) else ""
        match = re.fullmatch(r"([A-Za-z_]\w*|\d+|[@*?#])(:?[-=+?]|##?|%%?)?(.*)", inner, re.S)
        if not match:
            return ""
        name, op, word = match.groups()
        value = self.lookup(name)
        is_set = name in self.variables or (name.isdigit() and int(name) <= len(self.args))
        if op in (":-", "-"):
            empty = not value if op == ":-" else not is_set
            return self.expand_dollars(word) if empty else value
        if op in (":=", "="):
            if not value if op == ":=" else not is_set:
                self.variables[name] = self.expand_dollars(word)
            return self.variables.get(name, "")
        if op in (":+", "+"):
            present = bool(value) if op == ":+" else is_set
            return self.expand_dollars(word) if present else ""
        if op in (":?", "?"):
            if not value:
                self.error(f"{self.name}: {name}: {self.expand_dollars(word) or 'parameter not set'}")
                raise ShellExit(1 if self.world.mode != EXEC else 2)
            return value
        if op in ("#", "##", "%", "%%"):
            pattern = self.expand_dollars(word)
            candidates = range(len(value) + 1)
            if op in ("#", "##"):
                order = reversed(candidates) if op == "##" else candidates
                for cut in order:
                    if fnmatch.fnmatchcase(value[:cut], pattern):
                        return value[cut:]
            else:
                order = candidates if op == "%%" else reversed(candidates)
                for cut in order:
                    if fnmatch.fnmatchcase(value[cut:], pattern):
                        return value[:cut]
            return value
        return value

    def lookup(self, name: str) -> str:
        if name.isdigit():
            index = int(name)
            return self.name if index == 0 else self.args[index - 1] if index <= len(self.args) else ""
        if name == "?":
            return str(self.status)
        if name == "#":
            return str(len(self.args))
        if name in ("@", "*"):
            return " ".join(self.args)
        return self.variables.get(name, "")

    def substitute(self, script: str) -> str:
        """`$(…)`: run in a subshell; what it printed to stdout, trailing newlines removed."""
        capture = Capture()
        sub = self.child(everything=True)
        sub.stdout = capture
        try:
            sub.run_script(script)
            self.substituted = sub.status
        except ShellExit as done:
            self.substituted = done.code
        return capture.text().rstrip("\n")

    # -- the image's own programs ----------------------------------------------------------------

    def client(self, name: str, args: list[str]) -> int:
        """A database's own client (`redis-cli ping`, `pg_isready`): answers once the server is ready."""
        if self.world.container.ready:
            self.say(self.world.entry["exec_ok"][name])
            return 0
        self.error(f"{name}: could not connect to server: Connection refused")
        return 1

    def runtime(self, name: str, args: list[str]) -> int:
        program = ProgramIO(self)
        kind = self.runtimes().get(name, "perl")
        if kind == "python":
            return interpreters.run_python(list(args), program)
        if kind == "perl":
            return interpreters.run_perl(list(args), program)
        if kind == "node":
            return interpreters.run_node(list(args), program)
        if kind == "ruby":
            return interpreters.run_ruby(list(args), program)
        if kind == "java":
            return interpreters.run_java(name, list(args), program)
        return interpreters.run_go(list(args), program)

    # -- shells ----------------------------------------------------------------------------------

    def shell_process(self, name: str, args: list[str]) -> int:
        """`sh -c SCRIPT [NAME ARGS…]`, `sh FILE ARGS…`, or `sh` reading its commands from stdin."""
        flags = []
        while args and args[0].startswith("-") and args[0] not in ("-", "--"):
            flags.append(args.pop(0))
        script_flag = any("c" in flag for flag in flags)
        sub = self.child(name=name)
        sub.errexit = any("e" in flag for flag in flags)
        sub.xtrace = any("x" in flag for flag in flags)
        if script_flag:
            if not args:
                self.error(f"{name}: -c requires an argument")
                return 2
            script = args[0]
            sub.name = args[1] if len(args) > 1 else name
            sub.args = args[2:]
            return finish(sub, lambda: sub.run_script(script))
        if args and args[0] not in ("-", "--"):
            path = self.path(args[0])
            text = self.world.fs.read(path)
            if text is None:
                self.error(f"{name}: can't open '{args[0]}': No such file or directory")
                return 2 if self.flavor == "ash" else 127
            sub.name, sub.args = args[0], args[1:]
            return finish(sub, lambda: sub.run_script(text))
        return finish(sub, sub.interactive)

    def interactive(self) -> int:
        """Read commands from stdin and run each as it arrives; a terminal shows a prompt."""
        terminal = getattr(self.stdin, "terminal", False)
        self.reading = True
        pending = ""
        while True:
            if terminal:
                self.stderr.write(self.prompt() if not pending else "> ")
            try:
                line = self.stdin.readline()
            except Interrupted:
                pending = ""
                self.stderr.write("^C\n")
                continue
            if line is None:
                if terminal:
                    self.stderr.write("exit\n" if self.flavor == "bash" else "")
                return self.status
            pending += line
            if unfinished(pending):
                continue
            script, pending = pending, ""
            self.world.refresh()
            try:
                self.run_script(script)
            except Interrupted:
                self.stderr.write("^C\n")
                self.status = 130
            finally:
                self.world.checkpoint()

    def prompt(self) -> str:
        root = self.world.container.user[0] == 0
        sign = "#" if root else "$"
        if self.flavor == "bash":
            home = "/root" if root else "/"
            where = "~" + self.cwd[len(home) :] if self.cwd.startswith(home) and home != "/" else self.cwd
            user = "root" if root else "I have no name!"
            return f"{user}@{self.world.hostname}:{where}{sign} "
        if self.flavor == "dash":
            return f"{sign} "
        return f"{self.cwd} {sign} "


def finish(shell: Shell, run: Callable[[], int | None]) -> int:
    try:
        run()
        return shell.status
    except ShellExit as done:
        return done.code
    except FunctionReturn as returned:
        return returned.code


class ProgramIO:
    """A shell's streams, files and clock as a language runtime sees them (interpreters.ProgramIO)."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.env = {name: shell.variables[name] for name in shell.exported if name in shell.variables}
        self.hostname = shell.world.hostname
        self.version = shell.world.container.version

    def write(self, text: str) -> None:
        self.shell.stdout.write(text)

    def write_error(self, text: str) -> None:
        self.shell.stderr.write(text)

    def sleep(self, seconds: float | None) -> None:
        self.shell.world.sleep(seconds)

    def read_file(self, path: str) -> str | None:
        return self.shell.world.fs.read(self.shell.path(path))

    def write_file(self, path: str, text: str, *, append: bool) -> str | None:
        return self.shell.world.fs.write(self.shell.path(path), text, append=append)

    def read_stdin(self) -> str:
        return self.shell.stdin.read()

    def timestamp(self) -> float:
        moment = self.shell.moment()
        return moment.timestamp() if moment else self.shell.world.now
