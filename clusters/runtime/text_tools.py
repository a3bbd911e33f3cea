"""The text tools of the simulated shell, as pure functions: printf's formats, tr, cut, sort, uniq,
sed, awk and expr over text, with busybox's options and messages.

Each handles the forms learners and the Kubernetes documentation use and says which option it
does not support instead of guessing (UnsupportedOption). Text is str; bytes that are not UTF-8
arrive as surrogate escapes and pass through untouched.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field


class ToolError(Exception):
    """The tool failed the way busybox's does: `message` is its stderr line, `status` its exit code."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class UnsupportedOption(ToolError):
    """A form the simulated runtime does not model: said plainly, never guessed at."""

    def __init__(self, tool: str, what: str) -> None:
        super().__init__(f"{tool}: unsupported option '{what}' (the simulated runtime does not model it)", 1)


# ---------------------------------------------------------------------------------------------
# Escapes and printf
# ---------------------------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\", "e": "\x1b"}


def backslash_escapes(text: str, *, stop_at_c: bool = True) -> tuple[str, bool]:
    """`echo -e` / `printf %b` escapes; returns the text and whether `\\c` asked to stop output."""
    result, i = [], 0
    while i < len(text):
        char = text[i]
        if char != "\\" or i + 1 >= len(text):
            result.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following in _ESCAPES:
            result.append(_ESCAPES[following])
            i += 2
        elif following == "c" and stop_at_c:
            return "".join(result), True
        elif following == "0" or following in "1234567":
            digits = re.match(r"0?[0-7]{0,3}", text[i + 1 :]).group(0)
            result.append(chr(int(digits.lstrip("0") or "0", 8) & 0xFF))
            i += 1 + max(len(digits), 1)
        elif following == "x":
            digits = re.match(r"[0-9a-fA-F]{0,2}", text[i + 2 :]).group(0)
            result.append(chr(int(digits, 16)) if digits else "\\x")
            i += 2 + len(digits)
        else:
            result.append("\\" + following)
            i += 2
    return "".join(result), False


_CONVERSION = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?([diouxXcsbfFeEgG%])")


def _number(text: str, tool: str = "printf") -> int:
    text = text.strip()
    if text[:1] in ("'", '"') and len(text) >= 2:
        return ord(text[1])
    try:
        return int(text, 0) if re.fullmatch(r"[-+]?0[xX][0-9a-fA-F]+", text) else int(text or "0")
    except ValueError:
        raise ToolError(f"{tool}: invalid number '{text}'") from None


def _float(text: str) -> float:
    try:
        return float(text.strip() or "0")
    except ValueError:
        raise ToolError(f"printf: invalid number '{text}'") from None


def printf(template: str, args: list[str]) -> str:
    """printf FORMAT ARGS: the format is reused while arguments are left, as coreutils and busybox do."""
    remaining, out = list(args), []
    while True:
        before = len(remaining)
        text, stop = _printf_once(template, remaining)
        out.append(text)
        if stop or not remaining or len(remaining) == before:
            return "".join(out)


def _printf_once(template: str, remaining: list[str]) -> tuple[str, bool]:
    out, i = [], 0
    text, _ = backslash_escapes(template, stop_at_c=False)

    def take() -> str:
        return remaining.pop(0) if remaining else ""

    while i < len(text):
        match = _CONVERSION.match(text, i) if text[i] == "%" else None
        if not match:
            out.append(text[i])
            i += 1
            continue
        i = match.end()
        flags, width, precision, kind = match.groups()
        if kind == "%":
            out.append("%")
            continue
        width = str(_number(take())) if width == "*" else width or ""
        precision = str(_number(take())) if precision == "*" else precision
        spec = f"%{flags}{width}{'.' + precision if precision is not None else ''}"
        value = take()
        if kind in "di":
            out.append((spec + "d") % _number(value))
        elif kind in "ouxX":
            out.append((spec + kind) % _number(value))
        elif kind == "c":
            out.append((spec + "s") % value[:1])
        elif kind == "s":
            out.append((spec + "s") % value)
        elif kind == "b":
            expanded, stop = backslash_escapes(value)
            out.append((spec + "s") % expanded)
            if stop:
                return "".join(out), True
        else:
            out.append((spec + kind) % _float(value))
    return "".join(out), False


# ---------------------------------------------------------------------------------------------
# tr and cut
# ---------------------------------------------------------------------------------------------

_CLASSES = {
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "lower": "abcdefghijklmnopqrstuvwxyz",
    "digit": "0123456789",
    "alpha": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "alnum": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "space": " \t\n\r\f\v",
    "blank": " \t",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "xdigit": "0123456789ABCDEFabcdef",
}


def tr_set(spec: str) -> str:
    """A tr SET: ranges (a-z), classes ([:upper:]) and escapes (\\n)."""
    spec, _ = backslash_escapes(spec, stop_at_c=False)
    chars, i = [], 0
    while i < len(spec):
        match = re.match(r"\[:(\w+):\]", spec[i:])
        if match and match.group(1) in _CLASSES:
            chars.append(_CLASSES[match.group(1)])
            i += match.end()
        elif i + 2 < len(spec) and spec[i + 1] == "-":
            chars.append("".join(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1)))
            i += 3
        else:
            chars.append(spec[i])
            i += 1
    return "".join(chars)


def tr(text: str, sets: list[str], *, delete: bool = False, squeeze: bool = False, complement: bool = False) -> str:
    first = tr_set(sets[0]) if sets else ""
    second = tr_set(sets[1]) if len(sets) > 1 else ""

    def in_first(char: str) -> bool:
        return (char in first) != complement

    if delete:
        text = "".join(char for char in text if not in_first(char))
        squeeze_set = second
    elif second:
        mapping = {}
        if complement:
            text = "".join(second[-1] if char not in first else char for char in text)
        else:
            for index, char in enumerate(first):
                mapping[char] = second[min(index, len(second) - 1)]
            text = "".join(mapping.get(char, char) for char in text)
        squeeze_set = second
    else:
        squeeze_set = first
    if squeeze:
        out: list[str] = []
        for char in text:
            if out and out[-1] == char and (char in squeeze_set) != (complement and not second and not delete):
                continue
            out.append(char)
        text = "".join(out)
    return text


def ranges(spec: str, tool: str = "cut") -> list[tuple[int, int]]:
    """A LIST of cut: `1`, `1,3`, `2-4`, `3-`, `-2` (1-based, inclusive)."""
    result = []
    for part in spec.split(","):
        match = re.fullmatch(r"(\d*)(-?)(\d*)", part.strip())
        if not match or not (match.group(1) or match.group(3)):
            raise ToolError(f"{tool}: invalid byte, character or field list")
        start = int(match.group(1) or 1)
        end = int(match.group(3)) if match.group(3) else (10**9 if match.group(2) else start)
        if start < 1:
            raise ToolError(f"{tool}: fields and positions are numbered from 1")
        result.append((start, end))
    return result


def _selected(index: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= index <= end for start, end in spans)


def cut_line(line: str, *, fields: str | None, chars: str | None, delimiter: str, only_delimited: bool) -> str | None:
    if chars is not None:
        spans = ranges(chars)
        return "".join(char for index, char in enumerate(line, 1) if _selected(index, spans))
    spans = ranges(fields or "")
    if delimiter not in line:
        return None if only_delimited else line
    parts = line.split(delimiter)
    return delimiter.join(part for index, part in enumerate(parts, 1) if _selected(index, spans))


# ---------------------------------------------------------------------------------------------
# sort and uniq
# ---------------------------------------------------------------------------------------------


def _leading_number(text: str) -> float:
    match = re.match(r"\s*([-+]?\d+(?:\.\d+)?)", text)
    return float(match.group(1)) if match else 0.0


def sort_lines(
    lines: list[str],
    *,
    reverse: bool = False,
    numeric: bool = False,
    unique: bool = False,
    fold: bool = False,
    key: tuple[int, int | None] | None = None,
    separator: str | None = None,
) -> list[str]:
    def key_text(line: str) -> str:
        if key is None:
            return line
        parts = line.split(separator) if separator else line.split()
        start, end = key
        chosen = parts[start - 1 : end if end else None] if start - 1 < len(parts) else []
        return (separator or " ").join(chosen)

    def sort_key(line: str):
        text = key_text(line)
        if numeric:
            return (_leading_number(text), line)
        return (text.lower() if fold else text, line)

    ordered = sorted(lines, key=sort_key, reverse=reverse)
    if unique:
        seen, kept = set(), []
        for line in ordered:
            marker = sort_key(line)[0]
            if marker not in seen:
                seen.add(marker)
                kept.append(line)
        ordered = kept
    return ordered


def uniq_lines(
    lines: list[str], *, count: bool = False, repeated: bool = False, unique: bool = False, fold: bool = False
) -> list[str]:
    groups: list[list[str]] = []
    for line in lines:
        same = groups and (groups[-1][0].lower() == line.lower() if fold else groups[-1][0] == line)
        if same:
            groups[-1].append(line)
        else:
            groups.append([line])
    out = []
    for group in groups:
        if (repeated and len(group) < 2) or (unique and len(group) > 1):
            continue
        out.append(f"{len(group):7d} {group[0]}" if count else group[0])
    return out


# ---------------------------------------------------------------------------------------------
# Regular expressions: POSIX basic and extended, as Python's
# ---------------------------------------------------------------------------------------------

_POSIX_CLASSES = {f"[:{name}:]": chars for name, chars in _CLASSES.items()}


def posix_regex(pattern: str, *, extended: bool) -> str:
    """A POSIX BRE or ERE as a Python regular expression (classes, BRE's \\( \\) \\{ \\} and literal + ? |)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            end = i + 1
            if end < len(pattern) and pattern[end] == "^":
                end += 1
            if end < len(pattern) and pattern[end] == "]":
                end += 1
            while end < len(pattern) and pattern[end] != "]":
                if pattern.startswith("[:", end):
                    close = pattern.find(":]", end)
                    end = close + 2 if close > 0 else end + 1
                else:
                    end += 1
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            # POSIX brackets take a backslash literally; Python's need it (and "[") escaped.
            parts = re.split(r"(\[:\w+:\])", body)
            body = "".join(
                re.escape(_CLASSES[part[2:-2]])
                if part in _POSIX_CLASSES
                else part.replace("\\", "\\\\").replace("[", "\\[")
                for part in parts
            )
            body = ("^" if negate else "") + body
            out.append(f"[{body}]")
            i = end + 1
        elif char == "\\" and i + 1 < len(pattern):
            following = pattern[i + 1]
            if not extended and following in "(){}|+?":
                out.append(following)
            elif following in "<>":
                out.append(r"\b")
            else:
                out.append("\\" + following)
            i += 2
        elif not extended and char in "(){}|+?":
            out.append("\\" + char)
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def compile_posix(pattern: str, *, extended: bool, ignore_case: bool = False, tool: str = "grep") -> re.Pattern:
    try:
        return re.compile(posix_regex(pattern, extended=extended), re.IGNORECASE if ignore_case else 0)
    except re.error as error:
        raise ToolError(f"{tool}: bad regex '{pattern}': {error}", 2) from None


# ---------------------------------------------------------------------------------------------
# sed
# ---------------------------------------------------------------------------------------------


@dataclass
class _SedCommand:
    start: object = None  # None (every line), an int, "$" or a compiled regex
    end: object = None
    negate: bool = False
    name: str = ""
    regex: re.Pattern | None = None
    replacement: str = ""
    globally: bool = False
    occurrence: int = 1
    print_after: bool = False
    text: str = ""
    translate: dict = field(default_factory=dict)
    active: bool = False  # inside an address range


def _sed_split(script: str, start: int, delimiter: str) -> tuple[str, int]:
    out, i = [], start
    while i < len(script) and script[i] != delimiter:
        if script[i] == "\\" and i + 1 < len(script):
            out.append(script[i : i + 2] if script[i + 1] != delimiter else delimiter)
            i += 2
        else:
            out.append(script[i])
            i += 1
    if i >= len(script):
        raise ToolError(f"sed: unterminated `{'s' if delimiter else ''}' command")
    return "".join(out), i + 1


def _sed_address(script: str, i: int, extended: bool) -> tuple[object, int]:
    if i < len(script) and script[i].isdigit():
        match = re.match(r"\d+", script[i:])
        return int(match.group(0)), i + match.end()
    if i < len(script) and script[i] == "$":
        return "$", i + 1
    if i < len(script) and (script[i] == "/" or script[i] == "\\"):
        delimiter = "/" if script[i] == "/" else script[i + 1]
        pattern, i = _sed_split(script, i + (1 if script[i] == "/" else 2), delimiter)
        return compile_posix(pattern, extended=extended, tool="sed"), i
    return None, i


def sed_parse(scripts: list[str], *, extended: bool) -> list[_SedCommand]:
    commands = []
    for script in scripts:
        i = 0
        while i < len(script):
            while i < len(script) and script[i] in " \t\n;":
                i += 1
            if i >= len(script):
                break
            command = _SedCommand()
            command.start, i = _sed_address(script, i, extended)
            if command.start is not None and i < len(script) and script[i] == ",":
                command.end, i = _sed_address(script, i + 1, extended)
            while i < len(script) and script[i] == " ":
                i += 1
            if i < len(script) and script[i] == "!":
                command.negate, i = True, i + 1
            if i >= len(script):
                raise ToolError("sed: missing command")
            command.name = script[i]
            i += 1
            if command.name == "s":
                delimiter = script[i]
                pattern, i = _sed_split(script, i + 1, delimiter)
                command.replacement, i = _sed_split(script, i, delimiter)
                flags = re.match(r"[gpI0-9]*", script[i:]).group(0)
                i += len(flags)
                command.globally = "g" in flags
                command.print_after = "p" in flags
                number = re.search(r"\d+", flags)
                command.occurrence = int(number.group(0)) if number else 1
                command.regex = compile_posix(pattern, extended=extended, ignore_case="I" in flags, tool="sed")
            elif command.name == "y":
                delimiter = script[i]
                source, i = _sed_split(script, i + 1, delimiter)
                target, i = _sed_split(script, i, delimiter)
                if len(source) != len(target):
                    raise ToolError("sed: strings for `y' command are different lengths")
                command.translate = dict(zip(source, target, strict=True))
            elif command.name in "aic":
                rest = script[i:].lstrip()
                rest = rest[1:] if rest.startswith("\\") else rest
                end = rest.find("\n")
                command.text = (rest if end < 0 else rest[:end]).lstrip()
                i = len(script) if end < 0 else len(script) - len(rest) + end
            elif command.name in "dpqn=":
                pass
            else:
                raise UnsupportedOption("sed", command.name)
            commands.append(command)
    return commands


def _sed_replacement(template: str, match: re.Match) -> str:
    out, i = [], 0
    while i < len(template):
        char = template[i]
        if char == "\\" and i + 1 < len(template):
            following = template[i + 1]
            if following.isdigit():
                out.append(match.group(int(following)) or "")
            elif following == "n":
                out.append("\n")
            elif following == "t":
                out.append("\t")
            else:
                out.append(following)
            i += 2
        elif char == "&":
            out.append(match.group(0))
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _sed_matches(command: _SedCommand, line: str, number: int, last: bool) -> bool:
    def hit(address: object) -> bool:
        if isinstance(address, int):
            return number == address
        if address == "$":
            return last
        return bool(address.search(line))

    if command.start is None:
        selected = True
    elif command.end is None:
        selected = hit(command.start)
    elif command.active:
        if (
            (isinstance(command.end, int) and number >= command.end)
            or (command.end != "$" and hit(command.end))
            or (command.end == "$" and last)
        ):
            command.active = False
        selected = True
    elif hit(command.start):
        command.active = not (isinstance(command.end, int) and command.end <= number)
        selected = True
    else:
        selected = False
    return selected != command.negate


def sed(text: str, commands: list[_SedCommand], *, quiet: bool) -> str:
    lines = text.split("\n")
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines.pop()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line, number = lines[index], index + 1
        last = index == len(lines) - 1
        deleted, before, after, quit_now = False, [], [], False
        for command in commands:
            if not _sed_matches(command, line, number, last):
                continue
            name = command.name
            if name == "s":
                count = 0

                def replace(match: re.Match, command=command) -> str:
                    nonlocal count
                    count += 1
                    if (command.globally and count >= command.occurrence) or count == command.occurrence:
                        return _sed_replacement(command.replacement, match)
                    return match.group(0)

                replaced, changes = command.regex.subn(replace, line)
                if (changes and replaced != line) or (changes and count >= command.occurrence):
                    line = replaced
                    if command.print_after:
                        out.append(line)
            elif name == "d":
                deleted = True
                break
            elif name == "p":
                out.append(line)
            elif name == "q":
                quit_now = True
                break
            elif name == "y":
                line = "".join(command.translate.get(char, char) for char in line)
            elif name == "=":
                out.append(str(number))
            elif name == "a":
                after.append(command.text)
            elif name == "i":
                before.append(command.text)
            elif name == "c":
                before.append(command.text)
                deleted = True
                break
            elif name == "n":
                if not quiet:
                    out.append(line)
                index += 1
                if index >= len(lines):
                    deleted = True
                    break
                line, number = lines[index], index + 1
                last = index == len(lines) - 1
        out.extend(before)
        if not deleted and not quiet:
            out.append(line)
        out.extend(after)
        if quit_now:
            break
        index += 1
    return "\n".join(out) + ("\n" if out and (trailing_newline or len(out) > 0) else "")


# ---------------------------------------------------------------------------------------------
# expr
# ---------------------------------------------------------------------------------------------


def expr(args: list[str]) -> tuple[str, int]:
    """`expr` ARGS: the value and the exit status (0 when non-null and non-zero, 1 otherwise)."""
    tokens = list(args)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise ToolError("expr: syntax error", 2)
        position += 1
        return tokens[position - 1]

    def is_int(value: str) -> bool:
        return bool(re.fullmatch(r"-?\d+", value))

    def as_int(value: str) -> int:
        if not is_int(value):
            raise ToolError("expr: non-numeric argument", 2)
        return int(value)

    def null(value: str) -> bool:
        return value == "" or (is_int(value) and int(value) == 0)

    def primary() -> str:
        word = take()
        if word == "(":
            value = either()
            if take() != ")":
                raise ToolError("expr: syntax error", 2)
            return value
        if word == "length":
            return str(len(take()))
        if word == "substr":
            text, start, length = take(), as_int(take()), as_int(take())
            return text[start - 1 : start - 1 + length] if start > 0 and length > 0 else ""
        if word == "index":
            text, chars = take(), take()
            return str(next((i for i, char in enumerate(text, 1) if char in chars), 0))
        if word == "match":
            return colon(take(), take())
        return word

    def colon(text: str, pattern: str) -> str:
        regex = compile_posix(pattern, extended=False, tool="expr")
        match = regex.match(text)
        if regex.groups:
            return match.group(1) if match else ""
        return str(match.end()) if match else "0"

    def matching() -> str:
        value = primary()
        while peek() == ":":
            take()
            value = colon(value, primary())
        return value

    def product() -> str:
        value = matching()
        while peek() in ("*", "/", "%"):
            op, right = take(), matching()
            left_number, right_number = as_int(value), as_int(right)
            if op != "*" and right_number == 0:
                raise ToolError("expr: division by zero", 2)
            if op == "*":
                value = str(left_number * right_number)
            elif op == "/":
                value = str(int(left_number / right_number))
            else:
                value = str(int(math.fmod(left_number, right_number)))
        return value

    def total() -> str:
        value = product()
        while peek() in ("+", "-"):
            op, right = take(), product()
            value = str(as_int(value) + as_int(right) if op == "+" else as_int(value) - as_int(right))
        return value

    comparisons: dict[str, Callable] = {
        "=": operator.eq,
        "==": operator.eq,
        "!=": operator.ne,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }

    def compare() -> str:
        value = total()
        while peek() in comparisons:
            op, right = take(), total()
            if is_int(value) and is_int(right):
                value = str(int(comparisons[op](int(value), int(right))))
            else:
                value = str(int(comparisons[op](value, right)))
        return value

    def both() -> str:
        value = compare()
        while peek() == "&":
            take()
            right = compare()
            value = value if not null(value) and not null(right) else "0"
        return value

    def either() -> str:
        value = both()
        while peek() == "|":
            take()
            right = both()
            value = value if not null(value) else (right if not null(right) else "0")
        return value

    if not tokens:
        raise ToolError("expr: missing operand", 2)
    result = either()
    if position != len(tokens):
        raise ToolError("expr: syntax error", 2)
    return result, 1 if null(result) else 0
