"""The applets of the simulated shell, busybox's (and, on Debian images, coreutils' wording): each
a function of the shell and its arguments that returns an exit status. They handle the forms the
Kubernetes documentation and its tutorials use; an option they do not model is refused with
"<applet>: unsupported option" rather than guessed at."""

from __future__ import annotations

import base64
import fnmatch
import gzip
import hashlib
import io as io_module
import operator
import posixpath
import re
import tarfile
from collections.abc import Callable, Iterator

from clusters.runtime import awk as awk_tool
from clusters.runtime import text_tools
from clusters.runtime.shell_files import SHELL_BUILTINS, FileSystem, bytes_of, os_of, programs_of, text_of
from clusters.runtime.shell_language import (
    CONNECT_GIVES_UP_SECONDS,
    DROPPED,
    EXEC,
    NAME,
    TIMELINE,
    Capture,
    Forever,
    FunctionReturn,
    Handler,
    LogSink,
    Loop,
    LoopControl,
    Shell,
    ShellExit,
    StreamSink,
    arithmetic,
    sleep_seconds,
)

DATE = "{time:%a %b %e %H:%M:%S UTC %Y}"


HANDLERS: dict[str, Handler] = {}  # every applet, by each of its names


def applet(*names: str):
    def register(function: Callable[[Shell, list[str]], int]):
        for name in names:
            HANDLERS[name] = function
        return function

    return register


def _options(
    shell: Shell, tool: str, args: list[str], flags: str, valued: str = "", *, long: dict[str, str] | None = None
) -> tuple[dict[str, object], list[str]]:
    """getopt: `flags` take no value, `valued` take one; `--long` names map onto short ones."""
    found: dict[str, object] = {}
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index + 1 :])
            break
        if arg.startswith("--") and long is not None:
            name, _, value = arg[2:].partition("=")
            if name not in long:
                raise text_tools.UnsupportedOption(tool, arg)
            short = long[name]
            if short in valued and not value:
                index += 1
                value = args[index] if index < len(args) else ""
            found[short] = value if short in valued else True
        elif arg.startswith("-") and len(arg) > 1 and not re.fullmatch(r"-\d+", arg):
            letters = arg[1:]
            for position, letter in enumerate(letters):
                if letter in valued:
                    value = letters[position + 1 :]
                    if not value:
                        index += 1
                        if index >= len(args):
                            raise text_tools.ToolError(f"{tool}: option requires an argument -- '{letter}'")
                        value = args[index]
                    found[letter] = value
                    break
                if letter not in flags:
                    raise text_tools.UnsupportedOption(tool, f"-{letter}")
                found[letter] = True
        else:
            rest.append(arg)
        index += 1
    return found, rest


def _tool(function: Callable[[Shell, list[str]], int]) -> Callable[[Shell, list[str]], int]:
    """Turn a tool's ToolError into its message on stderr and its exit status."""

    def run(shell: Shell, args: list[str]) -> int:
        try:
            return function(shell, args)
        except text_tools.ToolError as error:
            shell.error(error.message)
            return error.status

    run.__name__ = function.__name__
    return run


def _inputs(shell: Shell, tool: str, names: list[str], *, report: bool = True) -> Iterator[tuple[str, str | None]]:
    """(name, text) for each file operand ("-" or none: stdin); text None when it cannot be read,
    said on stderr as busybox (or, on Debian, coreutils) says it."""
    for name in names or ["-"]:
        if name == "-":
            yield name, shell.stdin.read()
            continue
        path = shell.path(name)
        text = shell.world.fs.read(path)
        if text is None and report:
            reason = "Is a directory" if shell.world.fs.is_dir(path) else "No such file or directory"
            if tool == "grep" or shell.flavor != "ash":
                shell.error(f"{tool}: {name}: {reason}")
            elif reason == "Is a directory":
                shell.error(f"{tool}: read error: {reason}")
            else:
                shell.error(f"{tool}: can't open '{name}': {reason}")
        yield name, text


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@applet("echo")
def _echo(shell: Shell, args: list[str]) -> int:
    newline, interpret = True, shell.flavor == "dash"
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        interpret = ("e" in args[0] or interpret) and "E" not in args[0]
        args = args[1:]
    text = " ".join(args)
    if interpret:
        text, stop = text_tools.backslash_escapes(text)
        if stop:
            shell.write(text)
            return 0
    shell.write(text + ("\n" if newline else ""))
    return 0


@applet("printf")
@_tool
def _printf(shell: Shell, args: list[str]) -> int:
    if not args:
        shell.error("printf: usage: printf FORMAT [ARGUMENT...]")
        return 2 if shell.flavor != "ash" else 1
    shell.write(text_tools.printf(args[0], args[1:]))
    return 0


@applet("sleep")
def _sleep(shell: Shell, args: list[str]) -> int:
    if not args:
        shell.error("sleep: missing operand" if shell.flavor != "ash" else "BusyBox v1.36.1 multi-call binary.")
        return 1
    total = 0.0
    for arg in args:
        seconds = sleep_seconds(arg)
        if seconds is None:
            shell.world.sleep(None)
        total += seconds or 0.0
    shell.world.sleep(total)
    return 0


@applet("exit")
def _exit(shell: Shell, args: list[str]) -> int:
    raise ShellExit(int(args[0]) % 256 if args and args[0].lstrip("-").isdigit() else shell.status)


@applet("return")
def _return(shell: Shell, args: list[str]) -> int:
    raise FunctionReturn(int(args[0]) % 256 if args and args[0].lstrip("-").isdigit() else shell.status)


@applet("break", "continue")
def _loop_control(shell: Shell, args: list[str]) -> int:
    kind = "break" if shell.applet == "break" else "continue"
    raise LoopControl(kind, int(args[0]) if args and args[0].isdigit() else 1)


@applet("true", ":")
def _true(shell: Shell, args: list[str]) -> int:
    return 0


@applet("false")
def _false(shell: Shell, args: list[str]) -> int:
    return 1


@applet("cat")
@_tool
def _cat(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "cat", args, "nuAvetsb")
    status = 0
    number = 1
    for _, text in _inputs(shell, "cat", names):
        if text is None:
            status = 1
            continue
        if options.get("n"):
            lines = text.split("\n")
            body = [f"{number + i:6d}\t{line}" for i, line in enumerate(lines[:-1] if text.endswith("\n") else lines)]
            number += len(body)
            text = "\n".join(body) + ("\n" if text.endswith("\n") else "")
        shell.write(text)
    return status


@applet("tac")
@_tool
def _tac(shell: Shell, args: list[str]) -> int:
    status = 0
    for _, text in _inputs(shell, "tac", args):
        if text is None:
            status = 1
            continue
        shell.write("".join(line + "\n" for line in reversed(_lines(text))))
    return status


def _count_option(args: list[str], tool: str) -> tuple[list[str], str | None, bool]:
    """head/tail's -n N, -N, -n +N, -c N: (the rest, the count, whether it counts bytes)."""
    rest, count, in_bytes = [], None, False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-n", "-c"):
            in_bytes = arg == "-c"
            index += 1
            count = args[index] if index < len(args) else None
        elif re.fullmatch(r"-[nc][+-]?\d+", arg):
            in_bytes, count = arg[1] == "c", arg[2:]
        elif re.fullmatch(r"-\d+", arg):
            count = arg[1:]
        else:
            rest.append(arg)
        index += 1
    return rest, count, in_bytes


@applet("head")
@_tool
def _head(shell: Shell, args: list[str]) -> int:
    rest, count, in_bytes = _count_option(args, "head")
    names = [a for a in rest if not a.startswith("-") or a == "-"]
    if any(a.startswith("-") and a != "-" for a in rest):
        raise text_tools.UnsupportedOption("head", next(a for a in rest if a.startswith("-") and a != "-"))
    number = int(count or 10)
    status = 0
    for name, text in _inputs(shell, "head", names):
        if text is None:
            status = 1
            continue
        if len(names) > 1:
            shell.write(f"==> {name} <==\n")
        if in_bytes:
            shell.write(text[:number])
        else:
            lines = text.split("\n")
            kept = lines[:number] if number >= 0 else lines[: len(_lines(text)) + number]
            shell.write("\n".join(kept) + ("\n" if len(kept) < len(lines) or text.endswith("\n") else ""))
    return status


@applet("ls")
@_tool
def _ls(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "ls", args, "laAh1RdFtrSp")
    fs = shell.world.fs
    long, everything, status = options.get("l"), options.get("a") or options.get("A"), 0
    terminal = getattr(shell.stdin, "terminal", False) and isinstance(shell.stdout, StreamSink)
    targets = names or ["."]

    def line(name: str, path: str) -> str:
        if not long:
            return name + (
                "/" if options.get("F") or (options.get("p") and fs.is_dir(path) and fs.is_dir(path)) else ""
            )
        directory = fs.is_dir(path)
        size = 4096 if directory else len(bytes_of(fs.read(path) or ""))
        mode = "drwxr-xr-x" if directory else "-rw-r--r--"
        if fs.readonly(path) and not directory:
            mode = "-rw-r--r--"
        moment = shell.moment()
        when = moment.strftime("%b %e %H:%M") if moment else "{time:%b %e %H:%M}"
        return f"{mode}    {2 if directory else 1} root     root     {size:>9} {when} {name}"

    def show(entries: list[tuple[str, str]]) -> None:
        if long or not terminal or options.get("1"):
            shell.say(*(line(name, path) for name, path in entries))
        elif entries:
            shell.say("  ".join(name for name, _ in entries))

    files = [t for t in targets if fs.is_file(shell.path(t)) or options.get("d")]
    missing = [t for t in targets if not fs.exists(shell.path(t))]
    for name in missing:
        if shell.flavor == "ash":
            shell.error(f"ls: {name}: No such file or directory")
        else:
            shell.error(f"ls: cannot access '{name}': No such file or directory")
        status = 1 if shell.flavor == "ash" else 2
    show([(name, shell.path(name)) for name in files if name not in missing])
    directories = [t for t in targets if t not in files and t not in missing]
    for index, name in enumerate(directories):
        path = shell.path(name)
        if len(targets) > 1:
            shell.say(*([""] if index or files else []), f"{name}:")
        entries = [(entry, posixpath.join(path, entry)) for entry in fs.listdir(path)]
        if not everything:
            entries = [(entry, full) for entry, full in entries if not entry.startswith(".")]
        if options.get("a"):
            entries = [(".", path), ("..", posixpath.dirname(path)), *entries]
        if long:
            shell.say(f"total {len(entries) * 4}")
        show(entries)
    return status


@applet("tail")
@_tool
def _tail(shell: Shell, args: list[str]) -> int:
    follow = any(a in ("-f", "-F") or re.fullmatch(r"-[fF]+\w*", a) for a in args)
    args = [a for a in args if a not in ("-f", "-F", "-q", "-s") and not re.fullmatch(r"-[fF]", a)]
    rest, count, in_bytes = _count_option(args, "tail")
    names = [a for a in rest if not a.startswith("-") or a == "-"]
    status = 0
    for _, text in _inputs(shell, "tail", names):
        if text is None:
            status = 1
            continue
        if count and count.startswith("+"):
            start = int(count[1:]) - 1
            shell.write(text[start:] if in_bytes else "".join(line + "\n" for line in _lines(text)[max(start, 0) :]))
        else:
            number = int(count or 10)
            if in_bytes:
                shell.write(text[-number:] if number else "")
            else:
                lines = _lines(text)
                shell.write("".join(line + "\n" for line in lines[len(lines) - number :] if number))
    if follow:
        shell.world.sleep(None)  # tail -f waits for more: for ever, here
    return status


@applet("touch")
def _touch(shell: Shell, args: list[str]) -> int:
    status = 0
    for name in (a for a in args if not a.startswith("-")):
        path = shell.path(name)
        if shell.world.fs.is_file(path) or shell.world.fs.is_dir(path):
            if path in shell.world.fs.files:
                shell.world.fs.write(path, shell.world.fs.files[path])
            continue
        error = shell.world.fs.write(path, "")
        if error:
            shell.error(f"touch: {name}: {error if error != 'nonexistent directory' else 'No such file or directory'}")
            status = 1
    return status


@applet("rm")
@_tool
def _rm(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "rm", args, "rRfiv")
    recursive, force = options.get("r") or options.get("R"), options.get("f")
    status = 0
    for name in names:
        path = shell.path(name)
        fs = shell.world.fs
        if fs.is_dir(path) and path + "/" not in fs.base and path != "/":
            if not recursive:
                shell.error(f"rm: '{name}' is a directory")
                status = 1
                continue
            for inner in reversed(fs.walk(path)):
                if inner in fs.files:
                    fs.remove(inner)
            if path + "/" in fs.files:
                fs.remove(path + "/")
        elif fs.is_file(path):
            error = fs.remove(path)
            if error:
                shell.error(f"rm: can't remove '{name}': {error}")
                status = 1
        elif not force:
            shell.error(f"rm: can't remove '{name}': No such file or directory")
            status = 1
    return status


@applet("rmdir")
def _rmdir(shell: Shell, args: list[str]) -> int:
    status = 0
    for name in (a for a in args if not a.startswith("-")):
        path = shell.path(name).rstrip("/")
        fs = shell.world.fs
        if not fs.is_dir(path):
            shell.error(f"rmdir: '{name}': No such file or directory")
            status = 1
        elif fs.listdir(path):
            shell.error(f"rmdir: '{name}': Directory not empty")
            status = 1
        elif path + "/" in fs.files:
            fs.remove(path + "/")
    return status


@applet("mkdir")
@_tool
def _mkdir(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "mkdir", args, "pv", "m")
    status = 0
    for name in names:
        path = shell.path(name)
        fs = shell.world.fs
        if options.get("p"):
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts) + 1):
                partial = "/" + "/".join(parts[:depth])
                if not fs.exists(partial):
                    error = fs.mkdir(partial)
                    if error:
                        shell.error(f"mkdir: can't create directory '{name}': {error}")
                        status = 1
                        break
            continue
        error = fs.mkdir(path)
        if error:
            shell.error(f"mkdir: can't create directory '{name}': {error}")
            status = 1
    return status


@applet("date")
@_tool
def _date(shell: Shell, args: list[str]) -> int:
    options, rest = _options(shell, "date", args, "uRI", "d")
    if "d" in options:
        raise text_tools.UnsupportedOption("date", "-d")
    if options.get("I"):
        template = "%Y-%m-%d"
    elif options.get("R"):
        template = "%a, %d %b %Y %H:%M:%S +0000"
    else:
        template = next((a[1:] for a in rest if a.startswith("+")), None) or DATE[6:-1]
    moment = shell.moment()
    shell.say(moment.strftime(template) if moment else "{time:" + template + "}")
    return 0


@applet("hostname")
def _hostname(shell: Shell, args: list[str]) -> int:
    if args[:1] == ["-i"]:
        shell.say(shell.world.container.ip or "127.0.0.1")
    else:
        shell.say(shell.world.hostname)
    return 0


@applet("env")
def _env(shell: Shell, args: list[str]) -> int:
    extra: dict[str, str] = {}
    while args and "=" in args[0] and not args[0].startswith("-"):
        name, _, value = args.pop(0).partition("=")
        extra[name] = value
    if args:
        if args[0] in ("-i", "-u"):
            raise_unsupported = args[0]
            shell.error(f"env: unsupported option '{raise_unsupported}' (the simulated runtime does not model it)")
            return 1
        sub = shell.child()
        sub.variables.update(extra)
        sub.exported += [name for name in extra if name not in sub.exported]
        return sub.call(args)
    for name in shell.exported:
        if name in shell.variables:
            shell.say(f"{name}={shell.variables[name]}")
    for name, value in extra.items():
        shell.say(f"{name}={value}")
    return 0


@applet("printenv")
def _printenv(shell: Shell, args: list[str]) -> int:
    if not args:
        return _env(shell, [])
    values = [shell.variables[name] for name in args if name in shell.exported and name in shell.variables]
    shell.say(*values)
    return 0 if len(values) == len(args) else 1


@applet("export", "readonly")
def _export(shell: Shell, args: list[str]) -> int:
    for arg in args:
        if arg == "-p":
            shell.say(*(f"export {n}='{shell.variables[n]}'" for n in shell.exported if n in shell.variables))
            continue
        name, _, value = arg.partition("=")
        if "=" in arg:
            shell.variables[name] = value
        if name not in shell.exported:
            shell.exported.append(name)
    return 0


@applet("unset")
def _unset(shell: Shell, args: list[str]) -> int:
    for name in (a for a in args if not a.startswith("-")):
        shell.variables.pop(name, None)
        shell.arrays.pop(name, None)
        shell.functions.pop(name, None)
    return 0


@applet("set")
def _set(shell: Shell, args: list[str]) -> int:
    if not args:
        shell.say(*(f"{n}='{v}'" for n, v in sorted(shell.variables.items())))
        return 0
    for index, arg in enumerate(args):
        if arg == "--":
            shell.args = args[index + 1 :]
            break
        if arg[:1] in "-+" and len(arg) > 1:
            on = arg[0] == "-"
            if arg[1:] in ("o", "o pipefail"):
                continue
            for letter in arg[1:]:
                if letter == "e":
                    shell.errexit = on
                elif letter == "x":
                    shell.xtrace = on
        elif index == 0:
            shell.args = args
            break
    return 0


@applet("cd")
def _cd(shell: Shell, args: list[str]) -> int:
    target = args[0] if args else "/root"
    if target == "-":
        target = shell.variables.get("OLDPWD", shell.cwd)
    path = shell.path(target)
    if not shell.world.fs.is_dir(path):
        reason = "Not a directory" if shell.world.fs.is_file(path) else "No such file or directory"
        if shell.flavor == "bash":
            shell.error(f"bash: cd: {target}: {reason}")
        elif shell.flavor == "dash":
            shell.error(f"{shell.name}: 1: cd: can't cd to {target}")
        else:
            shell.error(f"{shell.name}: cd: can't cd to {target}: {reason}")
        return 1 if shell.flavor != "dash" else 2
    shell.variables["OLDPWD"], shell.cwd = shell.cwd, path
    shell.variables["PWD"] = path
    return 0


@applet("pwd")
def _pwd(shell: Shell, args: list[str]) -> int:
    shell.say(shell.cwd)
    return 0


@applet("local")
def _local(shell: Shell, args: list[str]) -> int:
    for arg in args:
        name, _, value = arg.partition("=")
        shell.variables[name] = value if "=" in arg else shell.variables.get(name, "")
    return 0


@applet("let")
def _let(shell: Shell, args: list[str]) -> int:
    value = 0
    for arg in args:
        name, op, expression = arg.partition("=")
        if op and NAME.fullmatch(name):
            value = arithmetic(expression, shell.variables)
            shell.variables[name] = str(value)
        else:
            value = arithmetic(arg, shell.variables)
    return int(value == 0)


@applet("trap", "wait", "ulimit", "umask", "alias", "hash", "sync", "stty", "clear")
def _accepted(shell: Shell, args: list[str]) -> int:
    return 0


@applet("shift")
def _shift(shell: Shell, args: list[str]) -> int:
    count = int(args[0]) if args and args[0].isdigit() else 1
    if count > len(shell.args):
        return 1
    shell.args = shell.args[count:]
    return 0


@applet("read")
def _read(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "read", args, "rs", "pt")
    if "p" in options:
        shell.stderr.write(str(options["p"]))
    line = shell.stdin.readline()
    if line is None:
        for name in names or ["REPLY"]:
            shell.variables[name] = ""
        return 1
    text = line[:-1] if line.endswith("\n") else line
    if not options.get("r"):
        text = re.sub(r"\\(.)", r"\1", text)
    names = names or ["REPLY"]
    if names == ["REPLY"]:
        shell.variables["REPLY"] = text
        return 0
    parts = text.split(None, len(names) - 1)
    for index, name in enumerate(names):
        shell.variables[name] = parts[index] if index < len(parts) else ""
    return 0


@applet("eval")
def _eval(shell: Shell, args: list[str]) -> int:
    return shell.run_script(" ".join(args))


@applet(".", "source")
def _source(shell: Shell, args: list[str]) -> int:
    if not args:
        return 0
    text = shell.world.fs.read(shell.path(args[0]))
    if text is None:
        shell.error(f"{shell.name}: .: can't open '{args[0]}'")
        return 1 if shell.flavor == "ash" else 2
    return shell.run_script(text)


@applet("exec")
def _exec(shell: Shell, args: list[str]) -> int:
    if not args:
        return 0
    raise ShellExit(shell.call(args))


@applet("command", "type", "which")
def _which(shell: Shell, args: list[str]) -> int:
    caller = shell.applet
    if caller == "command" and args and args[0] not in ("-v", "-V"):
        return shell.call(args)
    names = [a for a in args if not a.startswith("-")]
    status = 0
    for name in names:
        known = name in programs_of(shell.world.entry) or name in shell.runtimes()
        if caller == "type" and name in SHELL_BUILTINS:
            shell.say(f"{name} is a shell builtin")
        elif caller == "command" and name in SHELL_BUILTINS:
            shell.say(name)
        elif known:
            directory = "/bin" if os_of(shell.world.entry) in ("busybox", "alpine") else "/usr/bin"
            location = f"{directory}/{name}"
            shell.say(f"{name} is {location}" if caller == "type" else location)
        else:
            if caller == "type":
                shell.say(f"{name}: not found")
            status = 1
    return status


@applet("test", "[", "[[")
def _test(shell: Shell, args: list[str]) -> int:
    double = shell.applet == "[["
    if shell.applet == "[":
        if not args or args[-1] != "]":
            shell.error(f"{shell.name}: missing ]")
            return 2
        args = args[:-1]
    if double:
        args = args[:-1] if args and args[-1] == "]]" else args
    try:
        return int(not _test_or(shell, list(args), double))
    except text_tools.ToolError as error:
        shell.error(error.message)
        return 2


def _test_or(shell: Shell, args: list[str], double: bool) -> bool:
    parts = _split_on(args, "||" if double else "-o")
    return any(_test_and(shell, part, double) for part in parts)


def _test_and(shell: Shell, args: list[str], double: bool) -> bool:
    parts = _split_on(args, "&&" if double else "-a")
    return all(_test_one(shell, part, double) for part in parts)


def _split_on(args: list[str], separator: str) -> list[list[str]]:
    parts, current, depth = [], [], 0
    for arg in args:
        depth += arg == "("
        depth -= arg == ")"
        if arg == separator and depth == 0 and len(current) > 0:
            parts.append(current)
            current = []
        else:
            current.append(arg)
    parts.append(current)
    return parts


def _test_one(shell: Shell, args: list[str], double: bool) -> bool:
    if args[:1] == ["!"]:
        return not _test_one(shell, args[1:], double)
    if args[:1] == ["("] and args[-1:] == [")"]:
        return _test_or(shell, args[1:-1], double)
    if double:
        regex = len(args) == 3 and args[1] == "=~"  # its right-hand side is expanded as a pattern below
        args = [a if regex and i == 2 else shell.expand_test_word(a) for i, a in enumerate(args)]
    if not args:
        return False
    if len(args) == 1:
        return args[0] != ""
    fs = shell.world.fs
    if len(args) == 2:
        flag, value = args
        root = shell.world.container.user[0] == 0
        path = shell.path(value) if value else value
        checks = {
            "-z": lambda: value == "",
            "-n": lambda: value != "",
            "-e": lambda: fs.exists(path),
            "-f": lambda: fs.is_file(path),
            "-d": lambda: fs.is_dir(path),
            "-s": lambda: bool(fs.read(path)),
            "-r": lambda: fs.exists(path),
            # busybox's test asks only the mode bits, and root may write anything: as root its
            # `-w` is true on a read-only mount too (bash asks access(2), which says EROFS)
            "-w": lambda: fs.exists(path) and (not fs.readonly(path) or (shell.flavor == "ash" and root)),
            "-x": lambda: fs.is_dir(path) or (fs.is_file(path) and fs.read(path).startswith("#!")),
            "-L": lambda: False,
            "-h": lambda: False,
            "-p": lambda: False,
            "-S": lambda: False,
            "-t": lambda: False,
        }
        if flag not in checks:
            raise text_tools.ToolError(f"{shell.name}: {flag}: unknown operand", 2)
        return checks[flag]()
    left, op, right = args[0], args[1], " ".join(args[2:])
    if op in ("=", "=="):
        return fnmatch.fnmatchcase(left, right) if double else left == right
    if op == "!=":
        return not fnmatch.fnmatchcase(left, right) if double else left != right
    if op == "=~" and double:
        pattern = shell.expand_dollars(right.strip("'\"") if right[:1] in "'\"" else right)
        try:
            match = re.search(text_tools.posix_regex(pattern, extended=True), left)
        except re.error:
            return False
        shell.arrays["BASH_REMATCH"] = [match.group(0), *(g or "" for g in match.groups())] if match else []
        return bool(match)
    if op in ("<", ">"):
        return left < right if op == "<" else left > right
    numbers = {"-eq": operator.eq, "-ne": operator.ne, "-lt": operator.lt, "-le": operator.le}
    numbers |= {"-gt": operator.gt, "-ge": operator.ge}
    if op in numbers:
        if not (left.strip().lstrip("-").isdigit() and right.strip().lstrip("-").isdigit()):
            raise text_tools.ToolError(
                f"{shell.name}: {left if not left.strip().lstrip('-').isdigit() else right}: bad number", 2
            )
        return numbers[op](int(left), int(right))
    if op in ("-nt", "-ot", "-ef"):
        return False
    raise text_tools.ToolError(f"{shell.name}: {op}: unknown operand", 2)


@applet("seq")
@_tool
def _seq(shell: Shell, args: list[str]) -> int:
    options, numbers = _options(shell, "seq", args, "w", "s")
    try:
        values = [float(a) if "." in a else int(a) for a in numbers]
    except ValueError:
        shell.error(f"seq: invalid number '{next(a for a in numbers if not a.lstrip('-').replace('.', '').isdigit())}'")
        return 1
    if not values or len(values) > 3:
        shell.error("seq: missing operand")
        return 1
    first, step, last = (
        (1, 1, values[0]) if len(values) == 1 else (values[0], 1, values[1]) if len(values) == 2 else values
    )
    separator = str(options.get("s", "\n"))
    out, current = [], first
    while (step > 0 and current <= last) or (step < 0 and current >= last):
        out.append(str(current))
        current += step
        if len(out) > 1_000_000:
            break
    width = max((len(v) for v in out), default=0)
    if options.get("w"):
        out = [v.zfill(width) for v in out]
    if out:
        shell.write(separator.join(out) + "\n")
    return 0


YES_PERIOD, YES_LINES_PER_ROUND = 0.01, 10


@applet("yes")
def _yes(shell: Shell, args: list[str]) -> int:
    line = " ".join(args) or "y"
    world = shell.world
    if isinstance(shell.stdout, Capture):
        # Into a pipe: the reader takes what it needs (`yes | head -n 3`); the rest would get SIGPIPE.
        shell.write((line + "\n") * 10_000)
        return 0
    if world.mode == TIMELINE and isinstance(shell.stdout, LogSink):
        # A flood, as the real one is: a thousand lines a second (the runtime keeps a run's newest
        # lines, the kubelet's copy rotates them), ten at a time so that playing it stays cheap.
        raise Loop(world.now, YES_PERIOD, [(0.0, "log", line)] * YES_LINES_PER_ROUND)
    if world.mode == EXEC and isinstance(shell.stdout, StreamSink):
        while True:
            shell.write((line + "\n") * 256)
            world._wait(0.001)
    raise Forever


@applet("grep", "egrep", "fgrep")
@_tool
def _grep(shell: Shell, args: list[str]) -> int:
    caller = shell.applet
    options, rest = _options(shell, "grep", args, "ivcqnlEFowrRhsHx", "em")
    patterns = [str(options["e"])] if "e" in options else []
    if not patterns:
        if not rest:
            shell.error("grep: no pattern" if shell.flavor == "ash" else "Usage: grep [OPTION]... PATTERNS [FILE]...")
            return 2
        patterns, rest = [rest[0]], rest[1:]
    fixed = options.get("F") or caller == "fgrep"
    extended = options.get("E") or caller == "egrep"
    flags = re.IGNORECASE if options.get("i") else 0
    regexes = []
    for pattern in patterns:
        source = re.escape(pattern) if fixed else text_tools.posix_regex(pattern, extended=bool(extended))
        if options.get("w"):
            source = rf"\b(?:{source})\b"
        if options.get("x"):
            source = rf"^(?:{source})$"
        try:
            regexes.append(re.compile(source, flags))
        except re.error:
            shell.error(f"grep: bad regex '{pattern}'")
            return 2
    names = rest
    if options.get("r") or options.get("R"):
        roots = names or ["."]
        names = []
        for root in roots:
            path = shell.path(root)
            if shell.world.fs.is_dir(path):
                names += [
                    p if root.startswith("/") else posixpath.relpath(p, shell.cwd)
                    for p in shell.world.fs.walk(path)
                    if not p.endswith("/")
                ]
            else:
                names.append(root)
    show_names = (len(names) > 1 or options.get("r") or options.get("R") or options.get("H")) and not options.get("h")
    found_any, status = False, 0
    limit = int(options["m"]) if "m" in options else None
    for name, text in _inputs(shell, "grep", names):
        if text is None:
            status = 2
            continue
        count = 0
        for number, line in enumerate(_lines(text), 1):
            hits = [m for regex in regexes for m in regex.finditer(line)]
            if bool(hits) == bool(options.get("v")):
                continue
            count += 1
            found_any = True
            if options.get("q"):
                return 0
            if options.get("c") or options.get("l"):
                continue
            prefix = (f"{name}:" if show_names else "") + (f"{number}:" if options.get("n") else "")
            if options.get("o") and not options.get("v"):
                for hit in hits:
                    shell.say(prefix + hit.group(0))
            else:
                shell.say(prefix + line)
            if limit is not None and count >= limit:
                break
        if options.get("c"):
            shell.say((f"{name}:" if show_names else "") + str(count))
        elif options.get("l") and count:
            shell.say(name if name != "-" else "(standard input)")
    return status if status else (0 if found_any else 1)


@applet("wc")
@_tool
def _wc(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "wc", args, "lwcmL")
    chosen = [letter for letter in "lwc" if options.get(letter)] or (["c"] if options.get("m") else ["l", "w", "c"])
    if options.get("m") and "c" not in chosen:
        chosen.append("c")
    status, totals, rows = 0, {"l": 0, "w": 0, "c": 0}, []
    for name, text in _inputs(shell, "wc", names):
        if text is None:
            status = 1
            continue
        counts = {
            "l": text.count("\n"),
            "w": len(text.split()),
            "c": len(bytes_of(text)) if not options.get("m") else len(text),
        }
        for key in totals:
            totals[key] += counts[key]
        rows.append(([counts[k] for k in chosen], name if name != "-" else ""))
    if len(rows) > 1:
        rows.append(([totals[k] for k in chosen], "total"))
    single = len(chosen) == 1 and not any(name for _, name in rows)
    for values, name in rows:
        if single:
            shell.say(str(values[0]))
        else:
            width = 7 if shell.flavor == "ash" else max(len(str(v)) for v in values)
            shell.say(" ".join(f"{v:{width}d}" for v in values) + (f" {name}" if name else ""))
    return status


@applet("rev")
def _rev(shell: Shell, args: list[str]) -> int:
    status = 0
    for _, text in _inputs(shell, "rev", [a for a in args if a != "--"]):
        if text is None:
            status = 1
            continue
        lines = text.split("\n")
        shell.write("\n".join(line[::-1] for line in lines))
    return status


@applet("sort")
@_tool
def _sort(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "sort", args, "rnufbsVh", "kto")
    key = None
    if "k" in options:
        match = re.fullmatch(r"(\d+)(?:\.\d+)?[a-z]*(?:,(\d+)(?:\.\d+)?[a-z]*)?", str(options["k"]))
        if not match:
            raise text_tools.UnsupportedOption("sort", f"-k {options['k']}")
        key = (int(match.group(1)), int(match.group(2)) if match.group(2) else None)
    lines, status = [], 0
    for _, text in _inputs(shell, "sort", names):
        if text is None:
            status = 2
            continue
        lines += _lines(text)
    ordered = text_tools.sort_lines(
        lines,
        reverse=bool(options.get("r")),
        numeric=bool(options.get("n") or options.get("h") or options.get("V")),
        unique=bool(options.get("u")),
        fold=bool(options.get("f")),
        key=key,
        separator=str(options["t"]) if "t" in options else None,
    )
    output = "".join(line + "\n" for line in ordered)
    if "o" in options:
        shell.world.fs.write(shell.path(str(options["o"])), output)
    else:
        shell.write(output)
    return status


@applet("uniq")
@_tool
def _uniq(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "uniq", args, "cdui")
    _, text = next(_inputs(shell, "uniq", names[:1]))
    if text is None:
        return 1
    lines = text_tools.uniq_lines(
        _lines(text),
        count=bool(options.get("c")),
        repeated=bool(options.get("d")),
        unique=bool(options.get("u")),
        fold=bool(options.get("i")),
    )
    shell.write("".join(line + "\n" for line in lines))
    return 0


@applet("tr")
@_tool
def _tr(shell: Shell, args: list[str]) -> int:
    options, sets = _options(shell, "tr", args, "dscC")
    if not sets or (len(sets) < 2 and not options.get("d") and not options.get("s")):
        shell.error("tr: missing operand")
        return 1
    text = shell.stdin.read()
    shell.write(
        text_tools.tr(
            text,
            sets,
            delete=bool(options.get("d")),
            squeeze=bool(options.get("s")),
            complement=bool(options.get("c") or options.get("C")),
        )
    )
    return 0


@applet("cut")
@_tool
def _cut(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "cut", args, "sn", "dfcb")
    if "f" not in options and "c" not in options and "b" not in options:
        shell.error("cut: you must specify a list of bytes, characters, or fields")
        return 1
    status = 0
    for _, text in _inputs(shell, "cut", names):
        if text is None:
            status = 1
            continue
        for line in _lines(text):
            result = text_tools.cut_line(
                line,
                fields=str(options["f"]) if "f" in options else None,
                chars=str(options.get("c") or options.get("b")) if ("c" in options or "b" in options) else None,
                delimiter=str(options.get("d", "\t")),
                only_delimited=bool(options.get("s")),
            )
            if result is not None:
                shell.say(result)
    return status


@applet("sed")
@_tool
def _sed(shell: Shell, args: list[str]) -> int:
    scripts: list[str] = []
    rest: list[str] = []
    quiet = extended = in_place = False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-e":
            index += 1
            scripts.append(args[index] if index < len(args) else "")
        elif arg in ("-n", "--quiet", "--silent"):
            quiet = True
        elif arg in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif arg == "-i" or arg.startswith("-i"):
            in_place = True
        elif re.fullmatch(r"-[nEr]+", arg):
            quiet = quiet or "n" in arg
            extended = extended or "E" in arg or "r" in arg
        elif arg.startswith("-") and arg != "-":
            raise text_tools.UnsupportedOption("sed", arg)
        else:
            rest.append(arg)
        index += 1
    if not scripts:
        if not rest:
            shell.error(
                "sed: no script specified"
                if shell.flavor == "ash"
                else "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]..."
            )
            return 1
        scripts, rest = [rest[0]], rest[1:]
    commands = text_tools.sed_parse(scripts, extended=extended)
    status = 0
    if in_place:
        for name in rest:
            path = shell.path(name)
            text = shell.world.fs.read(path)
            if text is None:
                shell.error(f"sed: can't read {name}: No such file or directory")
                status = 1
                continue
            shell.world.fs.write(
                path, text_tools.sed(text, text_tools.sed_parse(scripts, extended=extended), quiet=quiet)
            )
        return status
    texts = []
    for name, text in _inputs(shell, "sed", rest):
        if text is None:
            shell.error(f"sed: can't read {name}: No such file or directory")
            status = 2
            continue
        texts.append(text if text.endswith("\n") or not text else text + "\n")
    shell.write(text_tools.sed("".join(texts), commands, quiet=quiet))
    return status


@applet("awk")
@_tool
def _awk(shell: Shell, args: list[str]) -> int:
    separator, assignments, program, files = None, {}, None, []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("-F"):
            separator = arg[2:] or (args[index + 1] if index + 1 < len(args) else "")
            index += 0 if arg[2:] else 1
        elif arg == "-v":
            index += 1
            name, _, value = (args[index] if index < len(args) else "").partition("=")
            assignments[name] = value
        elif arg == "-f":
            raise text_tools.UnsupportedOption("awk", "-f")
        elif program is None:
            program = arg
        else:
            files.append(arg)
        index += 1
    if program is None:
        shell.error("awk: usage: awk [-F sep] [-v var=val] 'program' [file ...]")
        return 1
    if separator == "\\t":
        separator = "\t"
    texts, status = [], 0
    for _, text in _inputs(shell, "awk", files):
        if text is None:
            status = 2
            continue
        texts.append(text if text.endswith("\n") or not text else text + "\n")
    output, code = awk_tool.awk(program, "".join(texts), separator=separator, assignments=assignments)
    shell.write(output)
    return code or status


@applet("expr")
@_tool
def _expr(shell: Shell, args: list[str]) -> int:
    value, status = text_tools.expr(args)
    shell.say(value)
    return status


def _user_name(uid: int) -> str | None:
    return {0: "root", 1: "daemon", 65534: "nobody"}.get(uid)


def _group_name(gid: int) -> str | None:
    return {0: "root", 1: "daemon", 10: "wheel", 65534: "nogroup"}.get(gid)


@applet("id")
@_tool
def _id(shell: Shell, args: list[str]) -> int:
    options, _ = _options(shell, "id", args, "ugnGr")
    uid, gid, groups = shell.world.container.user
    every = [gid, *(g for g in groups if g != gid)]
    if uid == 0 and gid == 0 and not groups and os_of(shell.world.entry) in ("busybox", "alpine"):
        every = [0, 10]  # busybox's root is in wheel too
    if options.get("u"):
        shell.say(_user_name(uid) if options.get("n") and _user_name(uid) else str(uid))
        return 0
    if options.get("g"):
        shell.say(_group_name(gid) if options.get("n") and _group_name(gid) else str(gid))
        return 0
    if options.get("G"):
        shell.say(" ".join(str(g) for g in every))
        return 0

    def named(number: int, name: str | None) -> str:
        return f"{number}({name})" if name else str(number)

    shell.say(
        f"uid={named(uid, _user_name(uid))} gid={named(gid, _group_name(gid))} "
        f"groups={','.join(named(g, _group_name(g)) for g in every)}"
    )
    return 0


@applet("whoami")
def _whoami(shell: Shell, args: list[str]) -> int:
    uid = shell.world.container.user[0]
    name = _user_name(uid)
    if name is None:
        shell.error(
            f"whoami: unknown uid {uid}" if shell.flavor == "ash" else f"whoami: cannot find name for user ID {uid}"
        )
        return 1
    shell.say(name)
    return 0


@applet("groups")
def _groups(shell: Shell, args: list[str]) -> int:
    _, gid, groups = shell.world.container.user
    shell.say(" ".join(_group_name(g) or str(g) for g in [gid, *groups]))
    return 0


@applet("uname")
@_tool
def _uname(shell: Shell, args: list[str]) -> int:
    options, _ = _options(shell, "uname", args, "asnrvmpio")
    values = {
        "s": "Linux",
        "n": shell.world.hostname,
        "r": "6.8.0-kube-tutor",
        "v": "#1 SMP PREEMPT_DYNAMIC",
        "m": "x86_64",
        "o": "GNU/Linux" if os_of(shell.world.entry) == "debian" else "Linux",
    }
    if options.get("a"):
        chosen = ["s", "n", "r", "v", "m", "o"]
    else:
        chosen = [letter for letter in "snrvmo" if options.get(letter)] or ["s"]
    shell.say(" ".join(values[letter] for letter in chosen))
    return 0


@applet("basename")
def _basename(shell: Shell, args: list[str]) -> int:
    if not args:
        shell.error("basename: missing operand")
        return 1
    name = args[0].rstrip("/") or "/"
    result = posixpath.basename(name) or "/"
    if len(args) > 1 and result.endswith(args[1]) and result != args[1]:
        result = result[: -len(args[1])]
    shell.say(result)
    return 0


@applet("dirname")
def _dirname(shell: Shell, args: list[str]) -> int:
    if not args:
        shell.error("dirname: missing operand")
        return 1
    for arg in args:
        shell.say(posixpath.dirname(arg.rstrip("/")) or ("/" if arg.startswith("/") else "."))
    return 0


@applet("xargs")
@_tool
def _xargs(shell: Shell, args: list[str]) -> int:
    options: dict[str, str | bool] = {}
    index = 0
    while index < len(args) and args[index].startswith("-"):
        arg = args[index]
        if arg in ("-n", "-I", "-d", "-P", "-L"):
            index += 1
            options[arg[1]] = args[index] if index < len(args) else ""
        elif re.fullmatch(r"-[nIdPL].+", arg):
            options[arg[1]] = arg[2:]
        elif arg in ("-r", "-t", "-0"):
            options[arg[1]] = True
        else:
            raise text_tools.UnsupportedOption("xargs", arg)
        index += 1
    command = args[index:] or ["echo"]
    text = shell.stdin.read()
    if "I" in options:
        items = _lines(text)
    elif options.get("0"):
        items = [item for item in text.split("\x00") if item]
    elif "d" in options:
        items = [item for item in text.split(text_tools.backslash_escapes(str(options["d"]))[0]) if item]
    else:
        items = text.split()
    if not items and options.get("r"):
        return 0
    groups: list[list[str]]
    if "I" in options:
        marker = str(options["I"])
        groups = [[part.replace(marker, item) for part in command] for item in items]
    else:
        size = int(options.get("n") or options.get("L") or 0) or len(items) or 1
        groups = [command + items[i : i + size] for i in range(0, max(len(items), 1), size)]
    status = 0
    for argv in groups:
        if options.get("t"):
            shell.stderr.write(" ".join(argv) + "\n")
        code = shell.child().call(argv)
        status = 123 if code and code < 126 else code or status
    return status


@applet("tee")
@_tool
def _tee(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "tee", args, "ai")
    text = shell.stdin.read()
    status = 0
    for name in names:
        error = shell.world.fs.write(shell.path(name), text, append=bool(options.get("a")))
        if error:
            shell.error(f"tee: {name}: {error if error != 'nonexistent directory' else 'No such file or directory'}")
            status = 1
    shell.write(text)
    return status


@applet("find")
@_tool
def _find(shell: Shell, args: list[str]) -> int:
    roots = []
    while args and not args[0].startswith("-") and args[0] not in ("!", "("):
        roots.append(args.pop(0))
    tests: list[tuple[str, str]] = []
    maxdepth = mindepth = None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-name", "-iname", "-type", "-path", "-newer"):
            index += 1
            tests.append((arg, args[index] if index < len(args) else ""))
        elif arg == "-maxdepth":
            index += 1
            maxdepth = int(args[index])
        elif arg == "-mindepth":
            index += 1
            mindepth = int(args[index])
        elif arg in ("-print", "-print0"):
            pass
        else:
            raise text_tools.UnsupportedOption("find", arg)
        index += 1
    fs = shell.world.fs
    status = 0
    for root in roots or ["."]:
        path = shell.path(root)
        if not fs.exists(path):
            shell.error(f"find: {root}: No such file or directory")
            status = 1
            continue
        entries = [path + ("/" if fs.is_dir(path) and path != "/" else ""), *fs.walk(path)]
        for entry in entries:
            is_dir = entry.endswith("/")
            clean = entry.rstrip("/") or "/"
            relative = clean[len(path) :].lstrip("/")
            depth = 0 if clean == path else relative.count("/") + 1
            if (maxdepth is not None and depth > maxdepth) or (mindepth is not None and depth < mindepth):
                continue
            shown = root.rstrip("/") + ("/" + relative if relative else "") if root != "/" else clean
            if not all(_find_test(kind, value, clean, shown, is_dir) for kind, value in tests):
                continue
            shell.say(shown or root)
    return status


def _find_test(kind: str, value: str, path: str, shown: str, is_dir: bool) -> bool:
    name = posixpath.basename(path) or path
    if kind == "-name":
        return fnmatch.fnmatchcase(name, value)
    if kind == "-iname":
        return fnmatch.fnmatchcase(name.lower(), value.lower())
    if kind == "-path":
        return fnmatch.fnmatchcase(shown, value)
    if kind == "-type":
        return (value == "d") == is_dir if value in ("d", "f") else False
    return True


@applet("md5sum", "sha1sum", "sha256sum", "sha512sum")
@_tool
def _digest(shell: Shell, args: list[str]) -> int:
    tool = shell.applet
    algorithm = {"md5sum": "md5", "sha1sum": "sha1", "sha256sum": "sha256", "sha512sum": "sha512"}[tool]
    _, names = _options(shell, tool, args, "bt")
    status = 0
    for name, text in _inputs(shell, tool, names):
        if text is None:
            status = 1
            continue
        digest = hashlib.new(algorithm, bytes_of(text)).hexdigest()
        shell.say(f"{digest}  {name}")
    return status


@applet("base64")
@_tool
def _base64(shell: Shell, args: list[str]) -> int:
    options, names = _options(shell, "base64", args, "di", "w", long={"decode": "d", "wrap": "w"})
    _, text = next(_inputs(shell, "base64", names[:1]))
    if text is None:
        return 1
    if options.get("d"):
        try:
            shell.write(text_of(base64.b64decode("".join(text.split()))))
        except ValueError:
            shell.error("base64: invalid input")
            return 1
        return 0
    encoded = base64.b64encode(bytes_of(text)).decode()
    width = int(options.get("w", 76))
    lines = [encoded[i : i + width] for i in range(0, len(encoded), width)] if width else [encoded]
    shell.write("".join(line + "\n" for line in lines))
    return 0


@applet("cp", "mv")
@_tool
def _copy(shell: Shell, args: list[str]) -> int:
    tool = shell.applet
    options, names = _options(shell, tool, args, "rRpafvn")
    if len(names) < 2:
        shell.error(f"{tool}: missing destination file operand" if len(names) == 1 else f"{tool}: missing file operand")
        return 1
    fs = shell.world.fs
    *sources, target = names
    target_path = shell.path(target)
    status = 0
    for source in sources:
        source_path = shell.path(source)
        destination = (
            posixpath.join(target_path, posixpath.basename(source_path)) if fs.is_dir(target_path) else target_path
        )
        if fs.is_dir(source_path):
            if tool == "cp" and not (options.get("r") or options.get("R") or options.get("a")):
                shell.error(f"cp: omitting directory '{source}'")
                status = 1
                continue
            if not fs.exists(destination):
                fs.mkdir(destination)
            for inner in fs.walk(source_path):
                new = destination + inner[len(source_path) :]
                if inner.endswith("/"):
                    if not fs.exists(new.rstrip("/")):
                        fs.mkdir(new.rstrip("/"))
                else:
                    fs.write(new, fs.read(inner) or "")
            if tool == "mv":
                _rm(shell, ["-r", source])
            continue
        text = fs.read(source_path)
        if text is None:
            shell.error(f"{tool}: can't stat '{source}': No such file or directory" if shell.flavor == "ash"
                        else f"{tool}: cannot stat '{source}': No such file or directory")  # fmt: skip
            status = 1
            continue
        error = fs.write(destination, text)
        if error:
            shell.error(f"{tool}: can't create '{target}': {error}")
            status = 1
            continue
        if tool == "mv":
            fs.remove(source_path)
    return status


@applet("ln")
def _ln(shell: Shell, args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    if len(names) != 2:
        shell.error("ln: missing file operand")
        return 1
    text = shell.world.fs.read(shell.path(names[0]))
    if text is None:
        shell.error(f"ln: {names[0]}: No such file or directory")
        return 1
    shell.world.fs.write(shell.path(names[1]), text)  # a copy stands in for the link
    return 0


@applet("chmod", "chown")
def _chmod(shell: Shell, args: list[str]) -> int:
    tool = shell.applet
    names = [a for a in args if not a.startswith("-")][1:]
    status = 0
    for name in names:
        path = shell.path(name)
        if not shell.world.fs.exists(path):
            shell.error(f"{tool}: {name}: No such file or directory")
            status = 1
        elif shell.world.fs.readonly(path):
            shell.error(f"{tool}: {name}: Read-only file system")
            status = 1
    return status


def _process_table(shell: Shell) -> list[tuple[int, str]]:
    table = list(shell.world.container.processes)
    table.append((shell.world.pid(), " ".join(["ps"])))
    return table


@applet("ps")
def _ps(shell: Shell, args: list[str]) -> int:
    uid = shell.world.container.user[0]
    user = _user_name(uid) or str(uid)
    shell.say("PID   USER     TIME  COMMAND")
    for pid, command in _process_table(shell):
        shell.say(f"{pid:>5} {user:<8} {'0:00':>5} {command}")
    return 0


@applet("pidof")
def _pidof(shell: Shell, args: list[str]) -> int:
    found = [str(pid) for pid, command in shell.world.container.processes
             if command.split()[0].rsplit("/", 1)[-1] in args]  # fmt: skip
    if found:
        shell.say(" ".join(found))
    return 0 if found else 1


@applet("kill", "killall")
def _kill(shell: Shell, args: list[str]) -> int:
    tool = shell.applet
    signal = "TERM"
    targets = []
    for arg in args:
        if arg.startswith("-") and len(arg) > 1:
            signal = arg.lstrip("-").removeprefix("SIG").removeprefix("s ")
        else:
            targets.append(arg)
    processes = shell.world.container.processes
    status = 0
    for target in targets:
        if tool == "killall":
            matched = [pid for pid, command in processes if command.split()[0].rsplit("/", 1)[-1] == target]
        else:
            matched = [pid for pid, _ in processes if str(pid) == target]
        if not matched:
            shell.error(
                f"killall: {target}: no process killed"
                if tool == "killall"
                else f"kill: can't kill pid {target}: No such process"
            )
            status = 1
        elif signal != "0":
            shell.error(f"{tool}: the simulated runtime does not deliver signals to the container's processes "
                        "(the sandbox page can kill a container)")  # fmt: skip
            status = 1
    return status


@applet("timeout")
def _timeout(shell: Shell, args: list[str]) -> int:
    while args and args[0].startswith("-"):
        args = args[2:] if args[0] in ("-s", "-k") else args[1:]
    if len(args) < 2:
        shell.error("timeout: missing operand")
        return 1
    return shell.child().call(args[1:])


@applet("nproc")
def _nproc(shell: Shell, args: list[str]) -> int:
    shell.say("2")
    return 0


@applet("uptime")
def _uptime(shell: Shell, args: list[str]) -> int:
    moment = shell.moment()
    clock = moment.strftime("%H:%M:%S") if moment else "{time:%H:%M:%S}"
    shell.say(f" {clock} up 1 day,  0:00,  0 users,  load average: 0.08, 0.05, 0.01")
    return 0


@applet("free")
def _free(shell: Shell, args: list[str]) -> int:
    shell.say("              total        used        free      shared  buff/cache   available")
    shell.say("Mem:        4028248      812344     1803500       10376     1412404     2962860")
    shell.say("Swap:             0           0           0")
    return 0


@applet("du")
def _du(shell: Shell, args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")] or ["."]
    for name in names:
        path = shell.path(name)
        size = sum(len(bytes_of(shell.world.fs.read(p) or "")) for p in [*shell.world.fs.walk(path), path])
        blocks = max((size + 1023) // 1024, 0)
        shell.say(f"{blocks}K\t{name}" if "-h" in args or "-sh" in args else f"{blocks}\t{name}")
    return 0


@applet("mktemp")
def _mktemp(shell: Shell, args: list[str]) -> int:
    directory = "-d" in args
    # A name in the container's own /tmp, made from its next process id: repeatable in a timeline.
    name = f"/tmp/tmp.{hashlib.sha256(str(shell.world.pid()).encode()).hexdigest()[:10]}"  # noqa: S108
    error = shell.world.fs.mkdir(name) if directory else shell.world.fs.write(name, "")
    if error:
        shell.error(f"mktemp: {error}")
        return 1
    shell.say(name)
    return 0


@applet("readlink", "realpath")
def _realpath(shell: Shell, args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    for name in names:
        shell.say(shell.path(name))
    return 0 if names else 1


@applet("nl")
def _nl(shell: Shell, args: list[str]) -> int:
    _, text = next(_inputs(shell, "nl", [a for a in args if not a.startswith("-")][:1]))
    if text is None:
        return 1
    number = 0
    for line in _lines(text):
        if line.strip():
            number += 1
            shell.say(f"{number:6d}\t{line}")
        else:
            shell.say("")
    return 0


@applet("fold")
def _fold(shell: Shell, args: list[str]) -> int:
    width = 80
    if "-w" in args:
        width = int(args[args.index("-w") + 1])
    _, text = next(_inputs(shell, "fold", []))
    for line in (text or "").split("\n")[:-1] if text else []:
        shell.say(*([line[i : i + width] for i in range(0, len(line), width)] or [""]))
    return 0


@applet("tty")
def _tty(shell: Shell, args: list[str]) -> int:
    if getattr(shell.stdin, "terminal", False):
        shell.say("/dev/pts/0")
        return 0
    shell.say("not a tty")
    return 1


@applet("stat")
def _stat(shell: Shell, args: list[str]) -> int:
    status = 0
    for name in (a for a in args if not a.startswith("-")):
        path = shell.path(name)
        fs = shell.world.fs
        if not fs.exists(path):
            shell.error(f"stat: can't stat '{name}': No such file or directory")
            status = 1
            continue
        kind = "directory" if fs.is_dir(path) else "regular file"
        size = len(bytes_of(fs.read(path) or ""))
        shell.say(f"  File: {name}", f"  Size: {size}\t\tBlocks: {(size + 511) // 512 * 8}\tIO Block: 4096   {kind}")
    return status


@applet("sh", "ash", "bash")
def _sh(shell: Shell, args: list[str]) -> int:
    return shell.shell_process(shell.applet, list(args))


# -- the network ---------------------------------------------------------------------------------


def _resolve(shell: Shell, host: str) -> str | None:
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", host):
        return host
    found = shell.world.network.lookup(host)
    return found[0][1] if found else None


@applet("nslookup")
def _nslookup(shell: Shell, args: list[str]) -> int:
    names = [a for a in args if not a.startswith("-")]
    if not names:
        shell.error("nslookup: the simulated runtime has no interactive nslookup; give it a name")
        return 1
    network = shell.world.network
    server = names[1] if len(names) > 1 else network.nameserver
    found = network.lookup(names[0])
    busybox = os_of(shell.world.entry) in ("busybox", "alpine")
    if busybox:
        shell.say(f"Server:\t\t{server}", f"Address:\t{server}:53", "")
    else:
        shell.say(f"Server:\t\t{server}", f"Address:\t{server}#53", "")
    if not found:
        if busybox:
            shell.say(f"** server can't find {names[0]}: NXDOMAIN", "")
        else:
            shell.say(f"** server can't find {names[0]}: NXDOMAIN")
        return 1
    for full, address in found:
        shell.say(f"Name:\t{full}", f"Address: {address}")
    if busybox:
        shell.say("")
    return 0


def _url(url: str) -> tuple[str, int, str] | None:
    match = re.fullmatch(r"(?:(https?)://)?([^/:]+)(?::(\d+))?(/.*)?", url)
    if not match:
        return None
    scheme = match.group(1) or "http"
    port = int(match.group(3) or (443 if scheme == "https" else 80))
    return match.group(2), port, match.group(4) or "/"


def _no_answer(shell: Shell, timeout: float | None) -> bool:
    """Wait as a client waits on a connection nobody answers (see DROPPED): until its own
    timeout, or until the kernel gives up connecting; True when its own timeout came first."""
    if timeout and timeout < CONNECT_GIVES_UP_SECONDS:
        shell.world.sleep(timeout)
        return True
    shell.world.sleep(CONNECT_GIVES_UP_SECONDS)
    return False


def _seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@applet("wget")
def _wget(shell: Shell, args: list[str]) -> int:
    quiet, output, urls, spider = False, None, [], False
    timeout: float | None = None  # busybox's own default (900 s) outlasts the kernel's connect
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg == "-O":
            index += 1
            output = args[index] if index < len(args) else "-"
        elif arg.startswith("-O") or arg.startswith("-qO"):
            quiet = quiet or arg.startswith("-q")
            output = arg.split("O", 1)[1]
        elif arg in ("-T", "--timeout") or arg.startswith("--timeout="):
            value = arg.partition("=")[2] if "=" in arg else (args[index + 1] if index + 1 < len(args) else "")
            index += 0 if "=" in arg else 1
            timeout = _seconds(value)
            if timeout is None:
                shell.error(f"wget: invalid number '{value}'")
                return 1
        elif arg == "-t":
            index += 1
        elif arg == "--spider":
            spider = True
        elif arg in ("-S", "-s"):
            pass
        elif arg.startswith("-"):
            shell.error(f"wget: unsupported option '{arg}' (the simulated runtime does not model it)")
            return 1
        else:
            urls.append(arg)
        index += 1
    if not urls:
        shell.error("wget: missing URL")
        return 1
    parsed = _url(urls[0])
    if parsed is None:
        shell.error(f"wget: bad address '{urls[0]}'")
        return 1
    host, port, path = parsed
    address = _resolve(shell, host)
    if address is None:
        shell.error(f"wget: bad address '{host}'")
        return 1
    destination = output if output is not None else (posixpath.basename(path.split("?")[0]) or "index.html")
    if not quiet:
        shell.error(f"Connecting to {host}{'' if port == 80 else f':{port}'} ({address}:{port})")
    answer = shell.world.http_get(address, port, path)
    if answer is None:
        shell.error(f"wget: can't connect to remote host ({address}): Connection refused")
        return 1
    if answer == DROPPED:
        if _no_answer(shell, timeout):
            shell.error("wget: download timed out")
        else:
            shell.error(f"wget: can't connect to remote host ({address}): Connection timed out")
        return 1
    if not answer.status:  # something listens there, but does not speak HTTP
        shell.error("wget: error getting response: Connection reset by peer")
        return 1
    if answer.status >= 400:
        shell.error(f"wget: server returned error: HTTP/1.1 {answer.status} {_reason(answer.status)}")
        return 1
    if spider:
        if not quiet:
            shell.error("remote file exists")
        return 0
    if destination == "-":
        shell.write(answer.body)
    else:
        error = shell.world.fs.write(shell.path(destination), answer.body)
        if error:
            shell.error(f"wget: can't open '{destination}': {error}")
            return 1
        if not quiet:
            shell.error(f"saving to '{destination}'")
            shell.error(f"{destination:<20} 100% |********************************| {len(answer.body):>5}  0:00:00 ETA")
            shell.error(f"'{destination}' saved")
    return 0


def _reason(status: int) -> str:
    return {200: "OK", 301: "Moved Permanently", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "")  # fmt: skip


@applet("curl")
def _curl(shell: Shell, args: list[str]) -> int:
    options, urls = {}, []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-o", "--output", "-m", "--max-time", "--connect-timeout", "-H", "--header", "-w"):
            index += 1
            options[arg] = args[index] if index < len(args) else ""
        elif arg in (
            "-s",
            "--silent",
            "-S",
            "-f",
            "--fail",
            "-L",
            "--location",
            "-v",
            "-k",
            "-i",
            "-I",
            "-sS",
            "-sSL",
            "-fsSL",
            "-sL",
            "-fs",
            "-sf",
        ):
            options[arg] = True
        elif arg.startswith("-"):
            shell.error(f"curl: unsupported option '{arg}' (the simulated runtime does not model it)")
            return 2
        else:
            urls.append(arg)
        index += 1
    if not urls:
        shell.error("curl: no URL specified!")
        return 2
    parsed = _url(urls[0])
    if parsed is None:
        shell.error("curl: (3) URL rejected: Bad hostname")
        return 3
    host, port, path = parsed
    address = _resolve(shell, host)
    if address is None:
        shell.error(f"curl: (6) Could not resolve host: {host}")
        return 6
    answer = shell.world.http_get(address, port, path)
    if answer is None:
        shell.error(f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server")
        return 7
    if answer == DROPPED:
        limits = [_seconds(str(options[o])) for o in ("-m", "--max-time", "--connect-timeout") if o in options]
        limit = min((value for value in limits if value), default=None)
        if _no_answer(shell, limit):
            shell.error(f"curl: (28) Connection timed out after {int(limit * 1000) + 1} milliseconds")
        else:
            waited = int(CONNECT_GIVES_UP_SECONDS * 1000) + 1
            shell.error(
                f"curl: (28) Failed to connect to {host} port {port} after {waited} ms: Couldn't connect to server"
            )
        return 28
    if not answer.status:  # something listens there, but does not speak HTTP
        shell.error("curl: (1) Received HTTP/0.9 when not allowed")
        return 1
    fail = any(flag in options for flag in ("-f", "--fail", "-fsSL", "-fs", "-sf"))
    if fail and answer.status >= 400:
        shell.error(f"curl: (22) The requested URL returned error: {answer.status}")
        return 22
    body = answer.body
    if "-i" in options or "-I" in options:
        head = f"HTTP/1.1 {answer.status} {_reason(answer.status)}\r\nContent-Length: {len(bytes_of(body))}\r\n\r\n"
        body = head if "-I" in options else head + body
    if "-o" in options or "--output" in options:
        shell.world.fs.write(shell.path(str(options.get("-o") or options.get("--output"))), body)
    else:
        shell.write(body)
    return 0


@applet("ping")
def _ping(shell: Shell, args: list[str]) -> int:
    count = None
    names = []
    index = 0
    while index < len(args):
        if args[index] == "-c":
            index += 1
            count = int(args[index])
        elif args[index].startswith("-c"):
            count = int(args[index][2:])
        elif args[index].startswith("-"):
            index += 1 if args[index] in ("-W", "-w", "-i", "-s") else 0
        else:
            names.append(args[index])
        index += 1
    if not names:
        shell.error("ping: usage: ping [-c COUNT] HOST")
        return 1
    address = _resolve(shell, names[0])
    if address is None:
        shell.error(f"ping: bad address '{names[0]}'")
        return 1
    shell.say(f"PING {names[0]} ({address}): 56 data bytes")
    sent = 0
    while count is None or sent < count:
        shell.say(f"64 bytes from {address}: seq={sent} ttl=64 time=0.080 ms")
        sent += 1
        if count is None or sent < count:
            shell.world.sleep(1.0)
    shell.say(
        "",
        f"--- {names[0]} ping statistics ---",
        f"{sent} packets transmitted, {sent} packets received, 0% packet loss",
    )
    return 0


@applet("nc")
def _nc(shell: Shell, args: list[str]) -> int:
    if "-z" in args:
        wait = args[args.index("-w") + 1] if "-w" in args[:-1] else None
        names = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-w")]
        if len(names) >= 2:
            address = _resolve(shell, names[0])
            port = int(names[1]) if names[1].isdigit() else 0
            answer = shell.world.http_get(address, port, "/") if address else None
            if answer == DROPPED:
                _no_answer(shell, _seconds(wait) if wait else None)
                return 1
            if answer is not None:
                return 0
        return 1
    shell.error("nc: the simulated runtime supports only nc -z HOST PORT")
    return 1


# -- archives ------------------------------------------------------------------------------------


@applet("tar")
def _tar(shell: Shell, args: list[str]) -> int:
    """tar c / x / t over the container's files, as `kubectl cp` runs it (`tar cf - PATH`,
    `tar -xmf - -C DIR`): the stream is bytes, carried as surrogate-escaped text."""
    if not args:
        shell.error(
            "tar: no -c, -x or -t given"
            if shell.flavor == "ash"
            else "tar: You must specify one of the '-Acdtrux' options"
        )
        return 1
    letters, rest = "", []
    first = args[0]
    if not first.startswith("-"):
        letters, rest = first, args[1:]
    else:
        rest = list(args)
    archive, directory, names, verbose = None, None, [], False
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg.startswith("--"):
            if arg.startswith("--no-same-owner") or arg.startswith("--no-same-permissions") or arg == "--overwrite":
                pass
            else:
                shell.error(f"tar: unsupported option '{arg}' (the simulated runtime does not model it)")
                return 1
        elif arg.startswith("-") and len(arg) > 1:
            letters += arg[1:]
            if arg[1:].endswith("f") or arg[1:].endswith("C"):
                pass
        else:
            names.append(arg)
        index += 1
    # -f and -C take the next operands, in the order their letters came.
    operands = list(names)
    names = []
    for letter in letters:
        if letter == "f":
            archive = operands.pop(0) if operands else "-"
        elif letter == "C":
            directory = operands.pop(0) if operands else "/"
    names = operands
    verbose = "v" in letters
    mode = next((letter for letter in letters if letter in "cxt"), None)
    unknown = set(letters) - set("cxtfvCmpozZ")
    if unknown:
        shell.error(f"tar: unsupported option '-{''.join(sorted(unknown))}' (the simulated runtime does not model it)")
        return 1
    compressed = "z" in letters
    base = shell.path(directory) if directory else shell.cwd
    fs = shell.world.fs
    if mode == "c":
        buffer = io_module.BytesIO()
        status = 0
        with tarfile.open(fileobj=buffer, mode="w:gz" if compressed else "w", format=tarfile.GNU_FORMAT) as made:
            for name in names:
                path = posixpath.normpath(posixpath.join(base, name))
                if not fs.exists(path):
                    shell.error(f"tar: {name}: No such file or directory" if shell.flavor == "ash"
                                else f"tar: {name}: Cannot stat: No such file or directory")  # fmt: skip
                    status = 1
                    continue
                arcname = name.lstrip("/") or "."
                if name.startswith("/") and name != "/":
                    shell.stderr.write(
                        "tar: removing leading '/' from member names\n"
                        if shell.flavor == "ash"
                        else "tar: Removing leading `/' from member names\n"
                    )
                entries = [path + "/" if fs.is_dir(path) else path, *(fs.walk(path) if fs.is_dir(path) else [])]
                for entry in entries:
                    relative = entry.rstrip("/")[len(path.rstrip("/")) :]
                    member = (arcname.rstrip("/") + relative).lstrip("/") or "."
                    if entry.endswith("/"):
                        info = tarfile.TarInfo(member)
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        made.addfile(info)
                    else:
                        data = bytes_of(fs.read(entry) or "")
                        info = tarfile.TarInfo(member)
                        info.size, info.mode = len(data), 0o644
                        made.addfile(info, io_module.BytesIO(data))
                    if verbose:
                        shell.stderr.write(member + "\n")
        output = text_of(buffer.getvalue())
        if archive in (None, "-"):
            shell.write(output)
        else:
            fs.write(shell.path(archive), output)
        if names and all(not fs.exists(posixpath.normpath(posixpath.join(base, n))) for n in names):
            shell.error("tar: Exiting with failure status due to previous errors" if shell.flavor != "ash" else "")
        return 2 if status and shell.flavor != "ash" else status
    if mode in ("x", "t"):
        source = shell.stdin.read() if archive in (None, "-") else fs.read(shell.path(archive))
        if source is None:
            shell.error(f"tar: can't open '{archive}': No such file or directory")
            return 1
        try:
            with tarfile.open(fileobj=io_module.BytesIO(bytes_of(source)), mode="r:*") as opened:
                return _tar_read(shell, opened, names, base=base, extract=mode == "x", verbose=verbose)
        except tarfile.TarError:
            shell.error(
                "tar: invalid tar magic" if shell.flavor == "ash" else "tar: This does not look like a tar archive"
            )
            return 1
    shell.error(
        "tar: no -c, -x or -t given" if shell.flavor == "ash" else "tar: You must specify one of the '-Acdtrux' options"
    )
    return 1


def _tar_read(shell: Shell, opened: tarfile.TarFile, names: list[str], *, base: str, extract: bool, verbose: bool):
    """tar t (list) or x (extract under `base`) of an archive's members, or of those under `names`."""
    fs, status = shell.world.fs, 0
    for member in opened.getmembers():
        name = member.name.lstrip("/")
        if names and not any(name == n.rstrip("/") or name.startswith(n.rstrip("/") + "/") for n in names):
            continue
        if not extract or verbose:
            shell.write(name + "\n")
        target = posixpath.normpath(posixpath.join(base, name))
        if not extract or not (target == base or target.startswith(base.rstrip("/") + "/")):
            continue  # a member outside the target directory (../) is skipped, as tar does
        if member.isdir():
            if not fs.is_dir(target):
                _make_parents(fs, target)
            continue
        if not member.isfile():
            continue
        data = opened.extractfile(member).read()
        _make_parents(fs, posixpath.dirname(target))
        error = fs.write(target, text_of(data))
        if error:
            shell.error(f"tar: can't open '{name}': {error}")
            status = 1
    return status


def _make_parents(fs: FileSystem, path: str) -> None:
    parts = path.strip("/").split("/") if path.strip("/") else []
    for depth in range(1, len(parts) + 1):
        partial = "/" + "/".join(parts[:depth])
        if not fs.exists(partial):
            fs.mkdir(partial)


@applet("gzip", "gunzip", "zcat")
def _gzip(shell: Shell, args: list[str]) -> int:

    tool = shell.applet
    decompress = tool in ("gunzip", "zcat") or "-d" in args
    to_stdout = tool == "zcat" or "-c" in args
    names = [a for a in args if not a.startswith("-")]
    if not names:
        data = bytes_of(shell.stdin.read())
        try:
            shell.write(text_of(gzip.decompress(data) if decompress else gzip.compress(data, mtime=0)))
        except OSError:
            shell.error(f"{tool}: invalid magic")
            return 1
        return 0
    status = 0
    for name in names:
        path = shell.path(name)
        text = shell.world.fs.read(path)
        if text is None:
            shell.error(f"{tool}: can't open '{name}': No such file or directory")
            status = 1
            continue
        try:
            result = text_of(gzip.decompress(bytes_of(text)) if decompress else gzip.compress(bytes_of(text), mtime=0))
        except OSError:
            shell.error(f"{tool}: invalid magic")
            status = 1
            continue
        if to_stdout:
            shell.write(result)
        else:
            shell.world.fs.write(path.removesuffix(".gz") if decompress else path + ".gz", result)
            shell.world.fs.remove(path)
    return status
