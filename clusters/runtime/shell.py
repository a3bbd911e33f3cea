"""The shell of the simulated runtime: busybox `sh` and its applets, interpreted over a container's
files, on a clock of its own. This module is what the runtime uses; the shell itself is in
`shell_language` (the language), `shell_applets` (the applets) and `shell_files` (files, images).

Three ways to run it, one interpreter:
- `timeline()`: a container's command becomes what it does over time — log lines and file writes
  at offsets in seconds — and how it ends: it exits, blocks for ever, settles into a loop whose
  rounds repeat, or hands over to the image's server. The simulated runtime turns that into the
  run's stages. Nothing sleeps: `sleep 5` moves the shell's own clock.
- `probe_run()`: an exec probe, at once: its exit status and its output.
- `ShellProcess`: `kubectl exec`, a process in a thread of its own with stdin, stdout and stderr as
  streams; `sh` with an open stdin is an interactive session (with a terminal: prompt and echo).

The language: words, quotes, `$VAR`, `${VAR:-x}` and friends, `$(( ))`, `$(…)`, arrays, globs,
`;` `&&` `||` `|` `!`, redirections (`>` `>>` `<` `2>` `2>&1` `>&2` `&>`), `while`/`until`/`for`/
`if`/`case`/`[[ ]]`, functions, `set -e`/`-x`, `sh -c` and scripts from volumes. The applets are
busybox's; each handles the forms the Kubernetes documentation uses and refuses the others with
"<applet>: unsupported option". Files are text; bytes that are not UTF-8 travel as surrogate
escapes and are kept in the runtime's JSON state as base64 (`file_encode`).

In a timeline, a loop whose state (variables and files) is the same after a round as before it
repeats for ever; one that never repeats (a counter) is played for its first MAX_EFFECTS effects.
A timeline can be played again with writes from outside injected at their moments (`events`): the
run's future after an exec wrote to its files.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from clusters.runtime.base import STDERR, STDOUT
from clusters.runtime.shell_applets import HANDLERS
from clusters.runtime.shell_files import (
    bytes_of,
    file_decode,
    file_encode,
    image_layer,
    program_exists,
    programs_of,
    text_of,
)
from clusters.runtime.shell_language import (
    DROPPED,
    EXEC,
    INSTANT,
    MAX_EFFECTS,
    TIMELINE,
    Answer,
    Capture,
    Container,
    Forever,
    Input,
    Interrupted,
    LogSink,
    Loop,
    Network,
    NoNetwork,
    OpenInput,
    ServerHandover,
    Shell,
    ShellExit,
    Sink,
    Stopped,
    StreamSink,
    TextInput,
    World,
    sleep_seconds,
)

__all__ = [
    "DROPPED",
    "EXEC_NOT_FOUND",
    "EXEC_NOT_FOUND_CODE",
    "MAX_EFFECTS",
    "Answer",
    "Container",
    "Network",
    "NoNetwork",
    "ShellProcess",
    "Timeline",
    "bytes_of",
    "file_decode",
    "file_encode",
    "image_layer",
    "probe_run",
    "program_exists",
    "programs_of",
    "sleep_seconds",
    "text_of",
    "timeline",
]

EXEC_NOT_FOUND = (
    "OCI runtime exec failed: exec failed: unable to start container process: "
    'exec: "{name}": executable file not found in $PATH: unknown'
)
EXEC_NOT_FOUND_CODE = 126  # what the engine reports for an exec that could not start, and kubectl passes on

# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """What a container's command does over time: effects (offset, kind, payload) with kind "log"
    (a line), "file" ((path, stored text or None)) or "append" ((path, stored text)); and how it
    ends: ("exit", code, offset), ("forever",), ("loop", start, period, effects), ("server", offset)
    or ("unreached",) when a replay could not reach the moment it was asked to resume at."""

    effects: list
    ending: tuple
    network_used: bool = False  # what it does depends on the servers it reached (or did not)


def _main_shell(world: World, stdin: Input, stdout: Sink, stderr: Sink) -> Shell:
    container = world.container
    return Shell(
        world,
        variables=dict(container.env),
        exported=list(container.env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=container.workdir,
    )


def timeline(
    argv: list[str], container: Container, *, events: tuple = (), record_from: float | None = None
) -> Timeline:
    """Play a container's command on the shell's own clock. `events` (offset, path, stored text or
    None) are writes from outside, injected at their offsets; only what happens once they have all
    been injected, and only after `record_from` (when given), is recorded."""
    world = World(container, mode=TIMELINE, events=events, record_from=record_from, handlers=HANDLERS)
    world.log = LogSink(world)
    stdin = OpenInput() if container.stdin_open else TextInput("")
    shell = _main_shell(world, stdin, world.log, world.log)
    try:
        status = shell.call(argv)
        world.log.flush()
        ending: tuple = ("exit", status, world.now)
    except ShellExit as done:
        world.log.flush()
        ending = ("exit", done.code, world.now)
    except Forever:
        world.log.flush()
        ending = ("forever",)
    except Loop as loop:
        ending = ("loop", loop.start, loop.period, loop.effects)
    except ServerHandover as server:
        world.log.flush()
        ending = ("server", world.now, server.argv)
    if world.events:
        return Timeline([], ("unreached",))
    return Timeline(world.effects, ending, world.network_used)


def probe_run(argv: list[str], container: Container, *, clock: Callable[[], datetime] | None = None):
    """An exec probe: (exit status, output), or (None, "") when the command would not end."""
    world = World(container, mode=INSTANT, clock=clock, handlers=HANDLERS)
    output = Capture()
    shell = _main_shell(world, TextInput(""), output, output)
    try:
        status = shell.call(argv)
    except ShellExit as done:
        status = done.code
    except (Forever, Loop, ServerHandover):
        return None, ""
    return status, output.text()


# ---------------------------------------------------------------------------------------------
# kubectl exec: a process in a thread of its own
# ---------------------------------------------------------------------------------------------


class _StreamInput(Input):
    """An exec's stdin: bytes written by the client, read as lines or to the end."""

    def __init__(self, world: World, *, terminal: bool) -> None:
        self.world = world
        self.terminal = terminal
        self.buffer = ""
        self.closed = False
        self.ready = threading.Condition()

    def feed(self, text: str, *, close: bool = False) -> None:
        with self.ready:
            self.buffer += text
            self.closed = self.closed or close
            self.ready.notify_all()

    def _wait_for(self, done: Callable[[], bool]) -> None:
        with self.ready:
            while not done():
                if self.world.stop.is_set():
                    raise Stopped
                if self.world.interrupt.is_set():
                    self.world.interrupt.clear()
                    raise Interrupted
                self.ready.wait(0.2)

    def read(self) -> str:
        self._wait_for(lambda: self.closed)
        with self.ready:
            text, self.buffer = self.buffer, ""
        return text

    def readline(self) -> str | None:
        self._wait_for(lambda: "\n" in self.buffer or self.closed)
        with self.ready:
            if "\n" in self.buffer:
                line, self.buffer = self.buffer.split("\n", 1)
                return line + "\n"
            if self.buffer:
                line, self.buffer = self.buffer, ""
                return line
            return None


_END = object()  # the last item of a process's output


class ShellProcess:
    """`kubectl exec` in the simulated runtime: `argv` run by the shell in a thread of its own, as
    the ExecProcess of the runtime contract. File changes are handed to `commit` (path → stored
    text, or None for a removal) as the process goes: after each command of an interactive
    session, before each sleep, and at its end; after which `refresh()`, if given, tells the
    container's files as they are then."""

    def __init__(
        self,
        argv: list[str],
        container: Container,
        *,
        tty: bool,
        stdin: bool,
        clock: Callable[[], datetime],
        commit: Callable[[dict[str, str | None]], None] | None = None,
        refresh: Callable[[], dict[str, str] | None] | None = None,
    ) -> None:
        self.tty, self.stdin_open = tty, stdin
        self.output: queue.Queue[tuple[int, bytes]] = queue.Queue(maxsize=1024)
        self.changes: dict[str, str | None] = {}
        self.commit_changes = commit
        self.code: int | None = None
        self.ended = threading.Event()
        self.drained = False
        self.line = ""  # a terminal's line being typed
        self.typed: list[tuple[str, bool]] = []  # lines finished by Enter (or Ctrl-D), for the shell
        self.size = (80, 24)
        self.world = World(container, mode=EXEC, clock=clock, on_change=self._changed, handlers=HANDLERS)
        self.world.checkpoint = self.checkpoint
        self.current_files = refresh
        self.world.refresh = self._refresh
        self.input = _StreamInput(self.world, terminal=tty)
        if not stdin:
            self.input.closed = True
        self.thread = threading.Thread(target=self._run, args=(list(argv),), name="simulated-exec", daemon=True)
        self.thread.start()

    # -- the process -----------------------------------------------------------------------------

    def _changed(self, path: str, text: str | None, append: bool) -> None:
        self.changes[path] = file_encode(self.world.fs.files[path]) if text is not None else None

    def _refresh(self) -> None:
        """The container's files as they are now (its own program and the pod's other containers
        write too), with this process's own writes, which checkpoint saved before."""
        files = self.current_files() if self.current_files and not self.changes else None
        if files is not None:
            self.world.fs.files = {path: file_decode(text) for path, text in files.items()}

    def checkpoint(self) -> None:
        if self.changes and self.commit_changes is not None:
            changes, self.changes = self.changes, {}
            self.commit_changes(changes)

    def _emit(self, stream: int, text: str) -> None:
        if self.tty:
            stream = STDOUT
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        self._put((stream, bytes_of(text)))

    def _put(self, item: object) -> None:
        """Queue output; a reader that falls behind holds the process up (a pipe's back-pressure)."""
        while True:
            try:
                self.output.put(item, timeout=0.2)
                return
            except queue.Full:
                if self.world.stop.is_set():
                    if item is _END:
                        return
                    raise Stopped from None

    def _run(self, argv: list[str]) -> None:
        code = 0
        container = self.world.container
        try:
            if not argv or not program_exists(argv[0], container.entry, self.world.fs.files):
                self._emit(STDOUT, EXEC_NOT_FOUND.format(name=argv[0] if argv else "") + "\n")
                code = EXEC_NOT_FOUND_CODE
                return
            shell = _main_shell(self.world, self.input, StreamSink(self._emit, STDOUT), StreamSink(self._emit, STDERR))
            try:
                code = shell.call(argv)
            except ShellExit as done:
                code = done.code
            except (Forever, ServerHandover):
                self.world._wait(None)  # blocks until the client goes away
            except Interrupted:
                code = 130
        except Stopped:
            code = 137
        except Exception as error:
            with contextlib.suppress(Stopped, queue.Full):
                self._emit(STDERR, f"simulated runtime: the process failed: {error}\n")
            code = 1
        finally:
            with contextlib.suppress(Exception):
                self.checkpoint()
            self.code = code
            self.ended.set()
            self._put(_END)

    # -- the ExecProcess protocol ------------------------------------------------------------------

    def write_stdin(self, data: bytes) -> None:
        if self.input.closed or self.ended.is_set():
            return
        text = text_of(data)
        if not self.tty:
            self.input.feed(text)
            return
        echo = ""
        for char in text:
            echo += self._terminal_key(char)
        if echo:  # the terminal shows what was typed before the shell answers it
            with contextlib.suppress(Stopped):
                self._emit(STDOUT, echo)
        typed, self.typed = self.typed, []
        for line, close in typed:
            self.input.feed(line, close=close)

    def _terminal_key(self, char: str) -> str:
        """A terminal's line discipline: echo, erase, Enter, Ctrl-C, Ctrl-D; returns the echo."""
        if char in "\r\n":
            self.typed.append((self.line + "\n", False))
            self.line = ""
            return "\n"
        if char in ("\x7f", "\b"):
            if not self.line:
                return ""
            self.line = self.line[:-1]
            return "\b \b"
        if char == "\x03":
            self.line = ""
            self.world.interrupt.set()
            with self.input.ready:
                self.input.ready.notify_all()
            return ""
        if char == "\x04":
            self.typed.append((self.line, not self.line))
            self.line = ""
            return ""
        if char == "\x15":  # Ctrl-U: erase the line
            erased, self.line = "\b \b" * len(self.line), ""
            return erased
        if char >= " " or char == "\t":
            self.line += char
            return char
        return ""

    def close_stdin(self) -> None:
        if self.tty and self.line:
            self.input.feed(self.line)
            self.line = ""
        self.input.feed("", close=True)

    def read_output(self, timeout: float) -> tuple[int, bytes] | None:
        if self.drained:
            return (STDOUT, b"")
        try:
            item = self.output.get(timeout=timeout)
        except queue.Empty:
            if self.ended.is_set() and self.world.stop.is_set():
                self.drained = True  # killed with its output unread: what was left is dropped
                return (STDOUT, b"")
            return None
        if item is _END:
            self.drained = True
            return (STDOUT, b"")
        return item

    def resize(self, width: int, height: int) -> None:
        self.size = (width, height)

    def wait(self, timeout: float | None = None) -> int | None:
        self.ended.wait(timeout)
        return self.code if self.ended.is_set() else None

    def terminate(self) -> None:
        self.world.stop.set()
        with self.input.ready:
            self.input.ready.notify_all()
