"""The language runtimes of the simulated images: what `python3 -c …`, `perl -e …`, `node -e …`,
`ruby -e …`, `java -version` and `go version` do, for the forms the Kubernetes documentation's
examples use.

Nothing a learner writes is ever handed to a real interpreter. Python runs on a small tree-walking
interpreter over Python's own parser (`ast`), with a whitelist of built-ins and modules (`os`,
`sys`, `time`, `math`, `random`, `json`, `socket`); perl computes `bpi(N)` digit for digit; the
others print literals and versions. A program outside these forms fails with a message that says
so, never with a made-up result.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import posixpath
import random
import re
import sys
from collections.abc import Callable
from typing import Protocol

PYTHON_VERSION = "3.13.1"
PERL_VERSION = "5.40.0"
NODE_VERSION = "22.12.0"
RUBY_VERSION = "3.3.6"
JAVA_VERSION = "21.0.5"
GO_VERSION = "1.23.4"
MAX_STEPS = 200_000
MAX_DEPTH = 60
MAX_SIZE = 10_000_000  # the longest string or list a program may build


class ProgramIO(Protocol):
    """What a runtime offers a program: its arguments, environment, streams, files and clock."""

    env: dict[str, str]
    hostname: str
    version: str  # the image's tag, when it names a version (`3.12`), else ""

    def write(self, text: str) -> None: ...

    def write_error(self, text: str) -> None: ...

    def sleep(self, seconds: float | None) -> None:
        """Let time pass (None: for ever)."""

    def read_file(self, path: str) -> str | None: ...

    def write_file(self, path: str, text: str, *, append: bool) -> str | None:
        """Write a file; an error message when it cannot be written."""

    def read_stdin(self) -> str: ...

    def timestamp(self) -> float:
        """Seconds since the epoch, as `time.time()` gives them."""


class Unsupported(Exception):
    """The program uses what the simulated runtime does not model."""


def version_for(default: str, tag: str) -> str:
    """The version an image's tag names (`3.12` → 3.12.x from the default's patch when it is the
    same minor, `.0` otherwise), or the catalog's default."""
    if not re.fullmatch(r"\d+(\.\d+){0,2}", tag or ""):
        return default
    parts = tag.split(".")
    if len(parts) == 3:
        return tag
    known = default.split(".")
    if parts == known[: len(parts)]:
        return default
    return ".".join(parts + ["0"] * (3 - len(parts)))


# ---------------------------------------------------------------------------------------------
# perl
# ---------------------------------------------------------------------------------------------


def pi_digits(count: int) -> str:
    """π to `count` significant digits, rounded to nearest, as Math::BigFloat's bpi(count) gives it."""
    count = max(count, 1)
    guard = 10
    scale = 10 ** (count + guard)

    def arctan_inverse(x: int) -> int:
        total = term = scale // x
        x_squared, n, sign = x * x, 3, -1
        while term:
            term //= x_squared
            total += sign * (term // n)
            sign, n = -sign, n + 2
        return total

    pi = 4 * (4 * arctan_inverse(5) - arctan_inverse(239))  # Machin's formula, scaled by 10^(count+guard)
    digits = str(pi)  # "31415…", count + guard + 1 digits
    kept = int(digits[:count]) + (1 if int(digits[count]) >= 5 else 0)
    text = str(kept)
    return text if count == 1 else f"{text[0]}.{text[1:]}"


def run_perl(args: list[str], io: ProgramIO) -> int:
    modules, flags, code = [], set(), None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-v", "--version"):
            version = version_for(PERL_VERSION, io.version)
            io.write(
                f"\nThis is perl 5, version {version.split('.')[1]}, subversion {version.split('.')[2]} "
                f"(v{version}) built for x86_64-linux-gnu-thread-multi\n"
            )
            return 0
        if arg.startswith("-M"):
            modules.append(arg[2:] or (args[index + 1] if index + 1 < len(args) else ""))
            index += 1
            continue
        if arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            for position, letter in enumerate(letters):
                if letter in "eE":
                    rest = letters[position + 1 :]
                    code = (code + "\n" if code else "") + (rest or (args[index + 1] if index + 1 < len(args) else ""))
                    index += 0 if rest else 1
                    flags.add(letter)
                    break
                flags.add(letter)
            index += 1
            continue
        if code is None:
            script = io.read_file(arg if arg.startswith("/") else "/" + arg)
            if script is None:
                io.write_error(f'Can\'t open perl script "{arg}": No such file or directory\n')
                return 2
            code = script
        break
    if "d" in flags:  # the debugger (the image's default `perl -de0`): it reads commands from stdin
        io.read_stdin()
        return 0
    if code is None:
        code = io.read_stdin()
    newline = "\n" if "l" in flags else ""
    bignum = any(m.split("=")[0] in ("bignum", "bigint", "bigrat") for m in modules)
    status = 0
    for statement in [s.strip() for s in re.split(r";\s*(?:\n|$)|\n", code) if s.strip()]:
        match = re.fullmatch(r"(print|say)\b\s*(.*?)", statement, re.S)
        if not match:
            io.write_error(f"perl: the simulated runtime runs print and say statements only, not: {statement}\n")
            return 255
        end = "\n" if match.group(1) == "say" else newline
        expression = match.group(2).strip()
        if expression.startswith("(") and expression.endswith(")"):
            expression = expression[1:-1].strip()
        value = _perl_value(expression, bignum=bignum, io=io)
        if value is None:
            return 255
        io.write(value + end)
    return status


def _perl_value(expression: str, *, bignum: bool, io: ProgramIO) -> str | None:
    pi = re.fullmatch(r"bpi\s*\(\s*(\d+)\s*\)", expression)
    if pi:
        if not bignum:
            io.write_error("Undefined subroutine &main::bpi called at -e line 1.\n")
            return None
        return pi_digits(int(pi.group(1)))
    literal = re.fullmatch(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'', expression, re.S)
    if literal:
        if literal.group(1) is not None:
            return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal.group(1))
        return literal.group(2).replace("\\'", "'")
    if re.fullmatch(r"[\d\s+\-*/().]+", expression):
        try:
            value = _arithmetic(expression)
        except (ValueError, ZeroDivisionError):
            io.write_error("Illegal division by zero at -e line 1.\n")
            return None
        return str(int(value)) if value == int(value) else repr(value)
    io.write_error(f"perl: the simulated runtime does not run this expression: {expression}\n")
    return None


def _arithmetic(expression: str) -> float:
    operators = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return operators[type(node.op)](value(node.left), value(node.right))
        raise ValueError("not arithmetic")

    return value(ast.parse(expression, mode="eval").body)


# ---------------------------------------------------------------------------------------------
# node, ruby, java, go: versions and printed literals
# ---------------------------------------------------------------------------------------------

_JS_OR_RUBY_LITERAL = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`$]*`|-?\d+(?:\.\d+)?)\s*""")


def _literals(text: str) -> list[str] | None:
    values, position = [], 0
    while position < len(text):
        match = _JS_OR_RUBY_LITERAL.match(text, position)
        if not match:
            return None
        token = match.group(1)
        values.append(token[1:-1].replace("\\n", "\n") if token[0] in "\"'`" else token)
        position = match.end()
        if position < len(text):
            if text[position] != ",":
                return None
            position += 1
    return values


def run_node(args: list[str], io: ProgramIO) -> int:
    if args and args[0] in ("-v", "--version"):
        io.write(f"v{version_for(NODE_VERSION, io.version)}\n")
        return 0
    if len(args) >= 2 and args[0] in ("-e", "--eval", "-p", "--print"):
        code = args[1].strip().rstrip(";")
        printed = re.fullmatch(r"console\.(log|error)\((.*)\)", code, re.S)
        if args[0] in ("-p", "--print"):
            values = _literals(code)
            if values is not None and len(values) == 1:
                io.write(values[0] + "\n")
                return 0
        elif printed and (values := _literals(printed.group(2))) is not None:
            (io.write if printed.group(1) == "log" else io.write_error)(" ".join(values) + "\n")
            return 0
        io.write_error(f"node: the simulated runtime runs console.log of literals only, not: {code}\n")
        return 1
    if not args:
        io.read_stdin()  # node reads a script from a stdin that is not a terminal: none here
        return 0
    io.write_error(f"node: the simulated runtime does not run scripts ({args[0]})\n")
    return 1


def run_ruby(args: list[str], io: ProgramIO) -> int:
    if args and args[0] in ("-v", "--version"):
        io.write(f"ruby {version_for(RUBY_VERSION, io.version)} (2024-11-05 revision 1) +PRISM [x86_64-linux]\n")
        return 0
    if len(args) >= 2 and args[0] == "-e":
        code = args[1].strip()
        printed = re.fullmatch(r"(puts|print|p)\s*\(?(.*?)\)?", code, re.S)
        if printed and (values := _literals(printed.group(2))) is not None:
            end = "" if printed.group(1) == "print" else "\n"
            io.write(end.join(values) + end if end else "".join(values))
            return 0
        io.write_error(f"ruby: the simulated runtime runs puts of literals only, not: {code}\n")
        return 1
    if not args:
        io.read_stdin()
        return 0
    io.write_error(f"ruby: the simulated runtime does not run scripts ({args[0]})\n")
    return 1


def run_java(name: str, args: list[str], io: ProgramIO) -> int:
    version = version_for(JAVA_VERSION, io.version)
    if args and args[0] in ("-version", "--version"):
        lines = (
            f'openjdk version "{version}" 2024-10-15 LTS\n'
            f"OpenJDK Runtime Environment Temurin-{version}+11 (build {version}+11-LTS)\n"
            f"OpenJDK 64-Bit Server VM Temurin-{version}+11 (build {version}+11-LTS, mixed mode, sharing)\n"
        )
        (io.write_error if args[0] == "-version" else io.write)(lines if name == "java" else f"{name} {version}\n")
        return 0
    if name == "jshell" and not args:
        io.read_stdin()
        return 0
    io.write_error(f"{name}: the simulated runtime does not run Java programs\n")
    return 1


def run_go(args: list[str], io: ProgramIO) -> int:
    if args[:1] == ["version"]:
        io.write(f"go version go{version_for(GO_VERSION, io.version)} linux/amd64\n")
        return 0
    io.write_error(f"go: the simulated runtime does not build Go programs (go {' '.join(args)})\n")
    return 1


# ---------------------------------------------------------------------------------------------
# python: a small, safe interpreter over Python's own parser
# ---------------------------------------------------------------------------------------------


class PythonExit(Exception):
    def __init__(self, code: object) -> None:
        self.code = code


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class _Module:
    def __init__(self, name: str, members: dict[str, object]) -> None:
        self.name, self.members = name, members

    def __repr__(self) -> str:
        return f"<module '{self.name}'>"


class _Builtin:
    def __init__(self, name: str, function: Callable) -> None:
        self.name, self.function = name, function

    def __call__(self, *args: object, **kwargs: object) -> object:  # what a whitelisted library function calls back
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"


class _Function:
    def __init__(self, node: ast.FunctionDef, scope: dict) -> None:
        self.node, self.scope = node, scope

    def __repr__(self) -> str:
        return f"<function {self.node.name}>"


class _Stream:
    def __init__(self, write: Callable[[str], None]) -> None:
        self.write_text = write

    def __repr__(self) -> str:
        return "<_io.TextIOWrapper>"


class _File:
    def __init__(self, python: _Python, path: str, mode: str) -> None:
        self.python, self.path, self.mode = python, path, mode
        self.buffer = ""
        if "r" in mode:
            text = python.io.read_file(path)
            if text is None:
                raise FileNotFoundError(2, f"No such file or directory: '{path}'")
            self.buffer = text
        self.position = 0
        self.first_write = "w" in mode

    def read(self) -> str:
        text = self.buffer[self.position :]
        self.position = len(self.buffer)
        return text

    def readline(self) -> str:
        end = self.buffer.find("\n", self.position)
        end = len(self.buffer) if end < 0 else end + 1
        line = self.buffer[self.position : end]
        self.position = end
        return line

    def readlines(self) -> list[str]:
        return self.read().splitlines(keepends=True)

    def write(self, text: str) -> int:
        error = self.python.io.write_file(self.path, text, append=not self.first_write)
        if error:
            raise OSError(30, error)
        self.first_write = False
        return len(text)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<_io.TextIOWrapper name='{self.path}' mode='{self.mode}'>"


_METHODS = {
    str: {
        "upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "join", "replace", "startswith",
        "endswith", "find", "rfind", "count", "isdigit", "isalpha", "isalnum", "isspace", "zfill", "ljust",
        "rjust", "center", "title", "capitalize", "splitlines", "partition", "rpartition", "index", "swapcase",
    },
    list: {"append", "extend", "pop", "insert", "remove", "sort", "reverse", "index", "count", "copy", "clear"},
    dict: {"get", "keys", "values", "items", "setdefault", "update", "pop", "copy", "clear"},
    set: {"add", "discard", "remove", "union", "intersection", "difference", "copy"},
    tuple: {"index", "count"},
    int: {"bit_length"},
    float: {"is_integer"},
}  # fmt: skip
_FILE_METHODS = {"read", "readline", "readlines", "write", "close"}
_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}  # fmt: skip
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
    ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_, ast.IsNot: operator.is_not,
}  # fmt: skip
_ERRORS = (
    ZeroDivisionError, KeyError, IndexError, ValueError, TypeError, NameError, AttributeError, FileNotFoundError,
    OSError, RuntimeError, OverflowError, MemoryError, RecursionError, StopIteration, AssertionError,
)  # fmt: skip


class _Python:
    def __init__(self, io: ProgramIO, argv: list[str]) -> None:
        self.io, self.argv = io, argv
        self.steps, self.depth, self.line = 0, 0, 1
        self.random = random.Random(0)  # noqa: S311 - a simulation, made repeatable on purpose
        self.globals: dict[str, object] = {"__name__": "__main__"}
        self.modules = self._modules()
        self.builtins = self._builtins()

    # -- the library -----------------------------------------------------------------------------

    def _modules(self) -> dict[str, _Module]:
        io = self.io
        environ = dict(io.env)
        path = _Module(
            "os.path",
            {
                "join": _Builtin("join", posixpath.join),
                "basename": _Builtin("basename", posixpath.basename),
                "dirname": _Builtin("dirname", posixpath.dirname),
                "exists": _Builtin("exists", lambda p: io.read_file(p) is not None),
                "isfile": _Builtin("isfile", lambda p: io.read_file(p) is not None),
            },
        )
        stdout, stderr = _Stream(io.write), _Stream(io.write_error)
        return {
            "os": _Module(
                "os",
                {
                    "environ": environ,
                    "getenv": _Builtin("getenv", lambda key, default=None: environ.get(key, default)),
                    "getcwd": _Builtin("getcwd", lambda: "/"),
                    "getpid": _Builtin("getpid", lambda: 1),
                    "path": path,
                    "sep": "/",
                    "linesep": "\n",
                    "name": "posix",
                },
            ),
            "sys": _Module(
                "sys",
                {
                    "exit": _Builtin("exit", self._exit),
                    "argv": list(self.argv),
                    "stdout": stdout,
                    "stderr": stderr,
                    "version": f"{version_for(PYTHON_VERSION, io.version)} (main) [GCC 12.2.0]",
                    "platform": "linux",
                    "maxsize": 2**63 - 1,
                },
            ),
            "time": _Module(
                "time",
                {
                    "sleep": _Builtin("sleep", self._sleep),
                    "time": _Builtin("time", io.timestamp),
                    "monotonic": _Builtin("monotonic", io.timestamp),
                },
            ),
            "socket": _Module("socket", {"gethostname": _Builtin("gethostname", lambda: io.hostname)}),
            "math": _Module(
                "math",
                {
                    "pi": math.pi,
                    "e": math.e,
                    "inf": math.inf,
                    **{
                        name: _Builtin(name, getattr(math, name))
                        for name in ("sqrt", "floor", "ceil", "log", "log2", "log10", "exp", "sin", "cos", "tan",
                                     "fabs", "gcd", "isclose", "trunc", "hypot")
                    },
                    "factorial": _Builtin("factorial", self._factorial),
                },
            ),
            "random": _Module(
                "random",
                {
                    "random": _Builtin("random", self.random.random),
                    "randint": _Builtin("randint", self.random.randint),
                    "choice": _Builtin("choice", self.random.choice),
                    "uniform": _Builtin("uniform", self.random.uniform),
                    "seed": _Builtin("seed", self.random.seed),
                    "shuffle": _Builtin("shuffle", self.random.shuffle),
                },
            ),
            "json": _Module(
                "json",
                {"dumps": _Builtin("dumps", json.dumps), "loads": _Builtin("loads", json.loads)},
            ),
        }  # fmt: skip

    def _sleep(self, seconds: float) -> None:
        self.steps = 0  # time passes: a loop that sleeps is not spinning
        self.io.sleep(float(seconds))

    def _factorial(self, n: int) -> int:
        if n > 5000:
            raise MemoryError
        return math.factorial(n)

    def _exit(self, code: object = None) -> None:
        raise PythonExit(code)

    def _print(self, *values: object, sep: str = " ", end: str = "\n", file: object = None, flush: bool = False):
        text = (" " if sep is None else sep).join(self._str(value) for value in values) + ("\n" if end is None else end)
        if isinstance(file, _Stream):
            file.write_text(text)
        elif isinstance(file, _File):
            file.write(text)
        else:
            self.io.write(text)

    def _str(self, value: object) -> str:
        return (
            value if isinstance(value, str) else repr(value) if isinstance(value, _Module | _Function) else str(value)
        )

    def _open(self, path: str, mode: str = "r", encoding: str | None = None) -> _File:
        if "b" in mode:
            raise Unsupported("open() in binary mode")
        return _File(self, path if path.startswith("/") else "/" + path, mode)

    def _input(self, prompt: str = "") -> str:
        self.io.write(prompt)
        text = self.io.read_stdin()
        if not text:
            raise EOFError("EOF when reading a line")
        return text.split("\n", 1)[0]

    def _builtins(self) -> dict[str, object]:
        functions: dict[str, Callable] = {
            "len": len, "range": self._range, "int": int, "float": float, "str": str, "bool": bool, "abs": abs,
            "min": min, "max": max, "sum": sum, "sorted": sorted, "reversed": lambda s: list(reversed(s)),
            "list": list, "dict": dict, "tuple": tuple, "set": set, "round": round, "repr": repr, "chr": chr,
            "enumerate": lambda s, start=0: list(enumerate(s, start)), "zip": lambda *s: list(zip(*s, strict=False)),
            "ord": ord, "any": any, "all": all, "divmod": divmod, "pow": self._pow, "hex": hex, "bin": bin, "oct": oct,
            "isinstance": self._isinstance, "print": self._print, "open": self._open, "input": self._input,
            "exit": self._exit, "quit": self._exit, "format": self._format,
            "map": lambda f, *s: [self.call(f, list(a), {}) for a in zip(*s, strict=False)],
            "filter": lambda f, s: [x for x in s if (self.call(f, [x], {}) if f is not None else x)],
        }  # fmt: skip
        safe = {name: _Builtin(name, function) for name, function in functions.items()}
        errors = {error.__name__: error for error in _ERRORS} | {"Exception": Exception, "EOFError": EOFError}
        return {**safe, **errors, "True": True, "False": False, "None": None}

    def _range(self, *args: int) -> range:
        made = range(*args)
        if len(made) > MAX_SIZE:
            raise MemoryError
        return made

    def _pow(self, base: object, exponent: object, modulo: object = None) -> object:
        if modulo is None:
            self._check_power(base, exponent)
            return pow(base, exponent)
        return pow(base, exponent, modulo)

    def _check_power(self, base: object, exponent: object) -> None:
        if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1 and exponent > 100_000:
            raise MemoryError

    def _isinstance(self, value: object, kinds: object) -> bool:
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        if not all(isinstance(kind, type) for kind in kinds):
            raise TypeError("isinstance() arg 2 must be a type or tuple of types")
        return isinstance(value, kinds)

    def _format(self, value: object, spec: str = "") -> str:
        return format(value, spec)

    # -- running ---------------------------------------------------------------------------------

    def run(self, source: str, filename: str) -> int:
        try:
            tree = ast.parse(source, filename=filename)
        except SyntaxError as error:
            where = f'  File "{filename}", line {error.lineno}\n    {(error.text or "").strip()}\n'
            self.io.write_error(f"{where}SyntaxError: {error.msg}\n")
            return 1
        try:
            self.block(tree.body, self.globals)
        except PythonExit as done:
            return self._exit_code(done.code)
        except Unsupported as what:
            self.io.write_error(f"python3: the simulated runtime does not run this program: {what} is not supported\n")
            return 1
        except Exception as error:  # the program's own uncaught exception
            self.io.write_error(
                f'Traceback (most recent call last):\n  File "{filename}", line {self.line}, in <module>\n'
                f"{type(error).__name__}: {_message(error)}\n"
            )
            return 1
        return 0

    def _exit_code(self, code: object) -> int:
        if code is None:
            return 0
        if isinstance(code, bool | int):
            return int(code) % 256
        self.io.write_error(f"{code}\n")
        return 1

    def step(self, node: ast.AST) -> None:
        self.steps += 1
        self.line = getattr(node, "lineno", self.line)
        if self.steps > MAX_STEPS:
            raise Unsupported("a program running this long without sleeping")

    def block(self, statements: list[ast.stmt], scope: dict) -> None:
        for statement in statements:
            self.statement(statement, scope)

    def statement(self, node: ast.stmt, scope: dict) -> None:
        self.step(node)
        if isinstance(node, ast.Expr):
            self.value(node.value, scope)
        elif isinstance(node, ast.Assign):
            value = self.value(node.value, scope)
            for target in node.targets:
                self.assign(target, value, scope)
        elif isinstance(node, ast.AugAssign):
            current = self.value(_as_load(node.target), scope)
            self.assign(node.target, self.binary(node.op, current, self.value(node.value, scope)), scope)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.value(node.value, scope), scope)
        elif isinstance(node, ast.If):
            self.block(node.body if self.value(node.test, scope) else node.orelse, scope)
        elif isinstance(node, ast.While):
            self.loop_while(node, scope)
        elif isinstance(node, ast.For):
            self.loop_for(node, scope)
        elif isinstance(node, ast.Break):
            raise _Break
        elif isinstance(node, ast.Continue):
            raise _Continue
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Import):
            for alias in node.names:
                scope[alias.asname or alias.name.split(".")[0]] = self.module(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            module = self.module(node.module or "")
            for alias in node.names:
                if alias.name not in module.members:
                    raise ImportError(f"cannot import name '{alias.name}' from '{module.name}'")
                scope[alias.asname or alias.name] = module.members[alias.name]
        elif isinstance(node, ast.FunctionDef):
            if node.decorator_list or node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
                raise Unsupported("decorators and *args/**kwargs")
            scope[node.name] = _Function(node, scope)
        elif isinstance(node, ast.Return):
            raise _Return(self.value(node.value, scope) if node.value else None)
        elif isinstance(node, ast.With):
            self.with_block(node, scope)
        elif isinstance(node, ast.Try):
            self.try_block(node, scope)
        elif isinstance(node, ast.Raise):
            raise self.exception(node, scope)
        elif isinstance(node, ast.Assert):
            if not self.value(node.test, scope):
                raise AssertionError(self.value(node.msg, scope) if node.msg else "")
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    scope.pop(target.id, None)
                elif isinstance(target, ast.Subscript):
                    del self.value(target.value, scope)[self.value(target.slice, scope)]
        elif isinstance(node, ast.Global):
            pass
        else:
            raise Unsupported(f"the '{type(node).__name__}' statement")

    def module(self, name: str) -> _Module:
        if name not in self.modules:
            if name in sys.stdlib_module_names:
                raise Unsupported(f"the module '{name}'")
            raise ModuleNotFoundError(f"No module named '{name}'")
        return self.modules[name]

    def exception(self, node: ast.Raise, scope: dict) -> BaseException:
        raised = self.value(node.exc, scope) if node.exc else RuntimeError("No active exception to reraise")
        if isinstance(raised, type) and issubclass(raised, BaseException):
            raised = raised()
        if not isinstance(raised, BaseException):
            return TypeError("exceptions must derive from BaseException")
        return raised

    def loop_while(self, node: ast.While, scope: dict) -> None:
        while self.value(node.test, scope):
            try:
                self.block(node.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        self.block(node.orelse, scope)

    def loop_for(self, node: ast.For, scope: dict) -> None:
        for item in list(self.value(node.iter, scope)):
            self.assign(node.target, item, scope)
            try:
                self.block(node.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        self.block(node.orelse, scope)

    def with_block(self, node: ast.With, scope: dict) -> None:
        for item in node.items:
            value = self.value(item.context_expr, scope)
            if not isinstance(value, _File):
                raise Unsupported("with on anything but open()")
            if item.optional_vars is not None:
                self.assign(item.optional_vars, value, scope)
        self.block(node.body, scope)

    def try_block(self, node: ast.Try, scope: dict) -> None:
        try:
            self.block(node.body, scope)
        except (_Break, _Continue, _Return, PythonExit, Unsupported):
            raise
        except Exception as error:
            for handler in node.handlers:
                kinds = self.value(handler.type, scope) if handler.type else Exception
                if isinstance(error, kinds):
                    if handler.name:
                        scope[handler.name] = error
                    self.block(handler.body, scope)
                    break
            else:
                raise
        else:
            self.block(node.orelse, scope)
        finally:
            self.block(node.finalbody, scope)

    def assign(self, target: ast.expr, value: object, scope: dict) -> None:
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            values = list(value)
            if len(values) != len(target.elts):
                raise ValueError(f"too many values to unpack (expected {len(target.elts)})")
            for element, item in zip(target.elts, values, strict=True):
                self.assign(element, item, scope)
        elif isinstance(target, ast.Subscript):
            container = self.value(target.value, scope)
            if not isinstance(container, list | dict):
                raise TypeError(f"'{type(container).__name__}' object does not support item assignment")
            container[self.value(target.slice, scope)] = value
        else:
            raise Unsupported(f"assigning to '{type(target).__name__}'")

    def lookup(self, name: str, scope: dict) -> object:
        for space in (scope, self.globals, self.builtins):
            if name in space:
                return space[name]
        raise NameError(f"name '{name}' is not defined")

    def value(self, node: ast.expr, scope: dict) -> object:
        self.step(node)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scope)
        if isinstance(node, ast.BinOp):
            return self.binary(node.op, self.value(node.left, scope), self.value(node.right, scope))
        if isinstance(node, ast.UnaryOp):
            operand = self.value(node.operand, scope)
            return {
                ast.USub: operator.neg,
                ast.UAdd: operator.pos,
                ast.Not: operator.not_,
                ast.Invert: operator.invert,
            }[type(node.op)](operand)
        if isinstance(node, ast.BoolOp):
            result = None
            for item in node.values:
                result = self.value(item, scope)
                if (isinstance(node.op, ast.And) and not result) or (isinstance(node.op, ast.Or) and result):
                    return result
            return result
        if isinstance(node, ast.Compare):
            left = self.value(node.left, scope)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self.value(right_node, scope)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.value(node.body if self.value(node.test, scope) else node.orelse, scope)
        if isinstance(node, ast.Call):
            function = self.value(node.func, scope)
            args = []
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    args.extend(self.value(arg.value, scope))
                else:
                    args.append(self.value(arg, scope))
            kwargs = {keyword.arg: self.value(keyword.value, scope) for keyword in node.keywords if keyword.arg}
            return self.call(function, args, kwargs)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.value(node.value, scope), node.attr)
        if isinstance(node, ast.Subscript):
            return self.value(node.value, scope)[self.value(node.slice, scope)]
        if isinstance(node, ast.Slice):
            parts = (node.lower, node.upper, node.step)
            return slice(*(self.value(part, scope) if part is not None else None for part in parts))
        if isinstance(node, ast.List):
            return [self.value(item, scope) for item in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self.value(item, scope) for item in node.elts)
        if isinstance(node, ast.Set):
            return {self.value(item, scope) for item in node.elts}
        if isinstance(node, ast.Dict):
            return {self.value(k, scope): self.value(v, scope) for k, v in zip(node.keys, node.values, strict=True)}
        if isinstance(node, ast.JoinedStr):
            return "".join(self.value(part, scope) if isinstance(part, ast.FormattedValue) else part.value
                           for part in node.values)  # fmt: skip
        if isinstance(node, ast.FormattedValue):
            value = self.value(node.value, scope)
            value = {-1: value, 115: str(value), 114: repr(value), 97: ascii(value)}[node.conversion]
            spec = self.value(node.format_spec, scope) if node.format_spec else ""
            return format(value, spec)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            items = self.comprehension(node.generators, scope, lambda inner: self.value(node.elt, inner))
            return set(items) if isinstance(node, ast.SetComp) else items
        if isinstance(node, ast.DictComp):
            pairs = self.comprehension(
                node.generators, scope, lambda inner: (self.value(node.key, inner), self.value(node.value, inner))
            )
            return dict(pairs)
        raise Unsupported(f"the '{type(node).__name__}' expression")

    def comprehension(self, generators: list[ast.comprehension], scope: dict, produce: Callable) -> list:
        results: list = []
        inner = dict(scope)

        def level(index: int) -> None:
            if index == len(generators):
                results.append(produce(inner))
                return
            generator = generators[index]
            for item in list(self.value(generator.iter, inner)):
                self.assign(generator.target, item, inner)
                if all(self.value(condition, inner) for condition in generator.ifs):
                    level(index + 1)

        level(0)
        return results

    def binary(self, op: ast.operator, left: object, right: object) -> object:
        if isinstance(op, ast.Pow):
            self._check_power(left, right)
        if isinstance(op, ast.Mult):
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, str | list | tuple)
                    and isinstance(count, int)
                    and len(sequence) * count > MAX_SIZE
                ):
                    raise MemoryError
        if isinstance(op, ast.Mod) and isinstance(left, str):
            return left % right
        if isinstance(op, ast.LShift) and isinstance(right, int) and right > 100_000:
            raise MemoryError
        result = _BINARY[type(op)](left, right)
        if isinstance(result, str | list) and len(result) > MAX_SIZE:
            raise MemoryError
        return result

    def attribute(self, value: object, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(f"'{type(value).__name__}' object has no attribute '{name}'")
        if isinstance(value, _Module):
            if name not in value.members:
                raise AttributeError(f"module '{value.name}' has no attribute '{name}'")
            return value.members[name]
        if isinstance(value, _Stream):
            if name == "write":
                return _Builtin("write", lambda text: value.write_text(text) or len(text))
            if name == "flush":
                return _Builtin("flush", lambda: None)
        if isinstance(value, _File) and name in _FILE_METHODS:
            return _Builtin(name, getattr(value, name))
        if isinstance(value, str) and name == "format":
            return _Builtin("format", lambda *a, **k: _safe_format(value, a, k))
        if isinstance(value, BaseException) and name == "args":
            return value.args
        allowed = _METHODS.get(type(value), set())
        if name not in allowed:
            raise AttributeError(f"'{type(value).__name__}' object has no attribute '{name}'")
        return _Builtin(name, getattr(value, name))

    def call(self, function: object, args: list, kwargs: dict) -> object:
        if isinstance(function, _Builtin):
            return function.function(*args, **kwargs)
        if isinstance(function, _Function):
            return self.call_function(function, args, kwargs)
        if isinstance(function, type) and issubclass(function, BaseException):
            return function(*args)
        raise TypeError(f"'{type(function).__name__}' object is not callable")

    def call_function(self, function: _Function, args: list, kwargs: dict) -> object:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RecursionError("maximum recursion depth exceeded")
        try:
            parameters = [arg.arg for arg in function.node.args.args]
            defaults = function.node.args.defaults
            local: dict[str, object] = {}
            for index, name in enumerate(parameters):
                if index < len(args):
                    local[name] = args[index]
                elif name in kwargs:
                    local[name] = kwargs[name]
                elif index >= len(parameters) - len(defaults):
                    local[name] = self.value(defaults[index - (len(parameters) - len(defaults))], function.scope)
                else:
                    raise TypeError(f"{function.node.name}() missing required argument: '{name}'")
            scope = {**function.scope, **local} if function.scope is not self.globals else local
            try:
                self.block(function.node.body, scope)
            except _Return as returned:
                return returned.value
            return None
        finally:
            self.depth -= 1


def _as_load(target: ast.expr) -> ast.expr:
    return ast.fix_missing_locations(ast.copy_location(type(target)(**{**vars(target), "ctx": ast.Load()}), target))


def _message(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args:
        return repr(error.args[0])
    return str(error)


def _safe_format(template: str, args: tuple, kwargs: dict) -> str:
    """str.format without attribute or index look-ups in its fields."""
    for field_name in re.findall(r"\{([^{}:!]*)", template.replace("{{", "").replace("}}", "")):
        if "." in field_name or "[" in field_name:
            raise Unsupported("attribute look-ups in format fields")
    return template.format(*args, **kwargs)


def run_python(args: list[str], io: ProgramIO, *, tty: bool = False) -> int:
    """`python3 ARGS`: -c CODE, a script file, or the script on stdin."""
    if args and args[0] in ("-V", "--version"):
        io.write(f"Python {version_for(PYTHON_VERSION, io.version)}\n")
        return 0
    options = []
    while args and args[0].startswith("-") and args[0] not in ("-c", "-m", "-"):
        options.append(args.pop(0))
    if args[:1] == ["-c"]:
        if len(args) < 2:
            io.write_error("Argument expected for the -c option\n")
            return 2
        return _Python(io, ["-c", *args[2:]]).run(args[1], "<string>")
    if args[:1] == ["-m"]:
        io.write_error(f"python3: the simulated runtime does not run modules (-m {' '.join(args[1:2])})\n")
        return 1
    if args and args[0] != "-":
        path = args[0] if args[0].startswith("/") else "/" + args[0]
        source = io.read_file(path)
        if source is None:
            io.write_error(f"python3: can't open file '{path}': [Errno 2] No such file or directory\n")
            return 2
        return _Python(io, args).run(source, path)
    source = io.read_stdin()
    return _Python(io, ["-"]).run(source, "<stdin>")
