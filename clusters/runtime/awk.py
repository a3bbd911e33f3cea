"""awk for the simulated shell: patterns and actions, fields, BEGIN and END, print and printf,
variables and associative arrays, the usual built-in functions.

What is not here (user-defined functions, getline, output redirection, system()) is refused with
an UnsupportedOption naming it, never guessed at.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from clusters.runtime.text_tools import ToolError, UnsupportedOption, compile_posix, printf


class _Next(Exception):
    pass


class _ExitProgram(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


_TOKEN = re.compile(
    r"""
    (?P<space>[ \t]+|\\\n|\#[^\n]*)
  | (?P<newline>\n)
  | (?P<number>\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\+\+|--|\+=|-=|\*=|/=|%=|\^=|==|!=|<=|>=|&&|\|\||!~|[-+*/%^!<>=~?:;,(){}\[\]$|])
    """,
    re.VERBOSE,
)
_KEYWORDS = {"BEGIN", "END", "print", "printf", "if", "else", "while", "for", "in", "next", "exit", "delete", "do"}
_BUILTINS = {
    "length",
    "substr",
    "index",
    "split",
    "sub",
    "gsub",
    "match",
    "sprintf",
    "tolower",
    "toupper",
    "int",
    "sqrt",
    "exp",
    "log",
    "sin",
    "cos",
    "atan2",
    "rand",
    "srand",
}
_UNSUPPORTED = {"getline", "function", "func", "system", "close", "fflush", "printf>", "nextfile"}


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(source):
        if source[i] == "/" and _regex_allowed(tokens):
            end = i + 1
            while end < len(source) and source[end] != "/":
                end += 2 if source[end] == "\\" else 1
            tokens.append(("regex", source[i + 1 : end]))
            i = end + 1
            continue
        match = _TOKEN.match(source, i)
        if not match:
            raise ToolError(f"awk: cmd. line:1: syntax error at '{source[i]}'", 2)
        kind = match.lastgroup
        text = match.group(0)
        i = match.end()
        if kind == "space":
            continue
        if kind == "name" and text in _UNSUPPORTED:
            raise UnsupportedOption("awk", text)
        tokens.append((kind, text))
    return tokens


def _regex_allowed(tokens: list[tuple[str, str]]) -> bool:
    """A slash starts a regular expression where an operand is expected, not after one."""
    if not tokens:
        return True
    kind, text = tokens[-1]
    return not (kind in ("number", "string", "name", "regex") or text in (")", "]", "$", "++", "--"))


@dataclass
class _Rule:
    kind: str  # "BEGIN", "END", "main"
    pattern: object
    action: list | None


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("eof", "")

    def text(self) -> str:
        return self.peek()[1]

    def take(self, expected: str | None = None) -> str:
        kind, text = self.peek()
        if expected is not None and text != expected:
            raise ToolError(f"awk: cmd. line:1: syntax error: expected '{expected}' near '{text}'", 2)
        if kind == "eof":
            raise ToolError("awk: cmd. line:1: unexpected end of program", 2)
        self.pos += 1
        return text

    def skip_newlines(self, *also: str) -> None:
        while self.peek()[0] == "newline" or self.text() in also:
            self.pos += 1

    def program(self) -> list[_Rule]:
        rules = []
        self.skip_newlines(";")
        while self.peek()[0] != "eof":
            if self.text() in ("BEGIN", "END"):
                kind = self.take()
                self.skip_newlines()
                rules.append(_Rule(kind, None, self.block()))
            else:
                pattern = None if self.text() == "{" else self.expression()
                action = self.block() if self.text() == "{" else None
                rules.append(_Rule("main", pattern, action))
            self.skip_newlines(";")
        return rules

    def block(self) -> list:
        self.take("{")
        statements = self.statements("}")
        self.take("}")
        return statements

    def statements(self, end: str) -> list:
        items = []
        self.skip_newlines(";")
        while self.text() != end and self.peek()[0] != "eof":
            items.append(self.statement())
            self.skip_newlines(";")
        return items

    def simple_end(self) -> None:
        if self.text() in (";",) or self.peek()[0] == "newline":
            self.pos += 1

    def statement(self) -> tuple:
        word = self.text()
        if word == "{":
            return ("block", self.block())
        if word == "if":
            self.take()
            self.take("(")
            condition = self.expression()
            self.take(")")
            self.skip_newlines()
            then = self.statement()
            self.skip_newlines(";")
            otherwise = None
            if self.text() == "else":
                self.take()
                self.skip_newlines()
                otherwise = self.statement()
            return ("if", condition, then, otherwise)
        if word == "while":
            self.take()
            self.take("(")
            condition = self.expression()
            self.take(")")
            self.skip_newlines()
            return ("while", condition, self.statement())
        if word == "for":
            self.take()
            self.take("(")
            if self.peek(1)[1] == "in" and self.peek(3)[1] == ")":
                name = self.take()
                self.take("in")
                array = self.take()
                self.take(")")
                self.skip_newlines()
                return ("for_in", name, array, self.statement())
            init = None if self.text() == ";" else self.expression()
            self.take(";")
            condition = None if self.text() == ";" else self.expression()
            self.take(";")
            step = None if self.text() == ")" else self.expression()
            self.take(")")
            self.skip_newlines()
            return ("for", init, condition, step, self.statement())
        if word in ("print", "printf"):
            self.take()
            args = []
            parenthesised = self.text() == "(" and self._closes_statement()
            if parenthesised:
                self.take("(")
            while self.text() not in (";", "}", ")", ">", "|") and self.peek()[0] not in ("newline", "eof"):
                args.append(self.expression(no_gt=not parenthesised))
                if self.text() == ",":
                    self.take()
            if parenthesised:
                self.take(")")
            if self.text() in (">", "|"):
                raise UnsupportedOption("awk", f"{word} {self.text()}")
            self.simple_end()
            return (word, args)
        if word == "next":
            self.take()
            self.simple_end()
            return ("next",)
        if word == "exit":
            self.take()
            code = None if self.text() in (";", "}") or self.peek()[0] == "newline" else self.expression()
            self.simple_end()
            return ("exit", code)
        if word == "delete":
            self.take()
            target = self.primary()
            self.simple_end()
            return ("delete", target)
        value = self.expression()
        self.simple_end()
        return ("expr", value)

    def _closes_statement(self) -> bool:
        """`print (a, b)` is a parenthesised list; `print (a)(b)` a concatenation."""
        depth, index = 0, self.pos
        while index < len(self.tokens):
            text = self.tokens[index][1]
            depth += text == "("
            depth -= text == ")"
            if depth == 0:
                following = self.tokens[index + 1] if index + 1 < len(self.tokens) else ("eof", "")
                return following[0] in ("newline", "eof") or following[1] in (";", "}", ">", "|")
            index += 1
        return False

    # -- expressions (lowest precedence first) --------------------------------------------------

    def expression(self, no_gt: bool = False) -> tuple:
        return self.assignment(no_gt)

    def assignment(self, no_gt: bool) -> tuple:
        left = self.ternary(no_gt)
        if self.text() in ("=", "+=", "-=", "*=", "/=", "%=", "^=") and left[0] in ("var", "field", "index"):
            op = self.take()
            return ("assign", op, left, self.assignment(no_gt))
        return left

    def ternary(self, no_gt: bool) -> tuple:
        condition = self.either(no_gt)
        if self.text() == "?":
            self.take()
            then = self.ternary(no_gt)
            self.take(":")
            return ("cond", condition, then, self.ternary(no_gt))
        return condition

    def either(self, no_gt: bool) -> tuple:
        left = self.both(no_gt)
        while self.text() == "||":
            self.take()
            self.skip_newlines()
            left = ("or", left, self.both(no_gt))
        return left

    def both(self, no_gt: bool) -> tuple:
        left = self.membership(no_gt)
        while self.text() == "&&":
            self.take()
            self.skip_newlines()
            left = ("and", left, self.membership(no_gt))
        return left

    def membership(self, no_gt: bool) -> tuple:
        left = self.matching(no_gt)
        while self.text() == "in":
            self.take()
            left = ("in", left, self.take())
        return left

    def matching(self, no_gt: bool) -> tuple:
        left = self.comparison(no_gt)
        while self.text() in ("~", "!~"):
            op = self.take()
            left = ("match", op == "!~", left, self.comparison(no_gt))
        return left

    def comparison(self, no_gt: bool) -> tuple:
        left = self.concatenation(no_gt)
        while self.text() in ("<", "<=", "==", "!=", ">=") or (self.text() == ">" and not no_gt):
            op = self.take()
            left = ("compare", op, left, self.concatenation(no_gt))
        return left

    def concatenation(self, no_gt: bool) -> tuple:
        left = self.additive()
        while self._starts_operand():
            left = ("concat", left, self.additive())
        return left

    def _starts_operand(self) -> bool:
        kind, text = self.peek()
        if kind in ("number", "string", "regex"):
            return True
        if kind == "name":
            return text not in ("in", "else") and (text not in _KEYWORDS or text in ("getline",))
        return text in ("$", "!", "(", "++", "--")

    def additive(self) -> tuple:
        left = self.multiplicative()
        while self.text() in ("+", "-"):
            op = self.take()
            left = ("arith", op, left, self.multiplicative())
        return left

    def multiplicative(self) -> tuple:
        left = self.unary()
        while self.text() in ("*", "/", "%"):
            op = self.take()
            left = ("arith", op, left, self.unary())
        return left

    def unary(self) -> tuple:
        if self.text() == "!":
            self.take()
            return ("not", self.unary())
        if self.text() in ("-", "+"):
            op = self.take()
            return ("arith", op, ("num", 0.0), self.unary())
        return self.power()

    def power(self) -> tuple:
        base = self.postfix()
        if self.text() == "^":
            self.take()
            return ("arith", "^", base, self.unary())
        return base

    def postfix(self) -> tuple:
        if self.text() in ("++", "--"):
            op = self.take()
            return ("incr", op, True, self.postfix())
        value = self.primary()
        if self.text() in ("++", "--") and value[0] in ("var", "field", "index"):
            return ("incr", self.take(), False, value)
        return value

    def primary(self) -> tuple:
        kind, text = self.peek()
        if kind == "number":
            self.take()
            return ("num", float(text))
        if kind == "string":
            self.take()
            return ("str", _unescape(text[1:-1]))
        if kind == "regex":
            self.take()
            return ("regex", text)
        if text == "$":
            self.take()
            return ("field", self.postfix() if self.text() not in ("(",) else self.primary())
        if text == "(":
            self.take()
            value = self.expression()
            if self.text() == ",":  # (a, b) in array
                keys = [value]
                while self.text() == ",":
                    self.take()
                    keys.append(self.expression())
                self.take(")")
                return ("group", keys)
            self.take(")")
            return value
        if kind == "name":
            self.take()
            if text in _BUILTINS and self.text() == "(":
                self.take("(")
                args = []
                while self.text() != ")":
                    args.append(self.expression())
                    if self.text() == ",":
                        self.take()
                self.take(")")
                return ("call", text, args)
            if text == "length":
                return ("call", "length", [])
            if self.text() == "[":
                self.take("[")
                keys = [self.expression()]
                while self.text() == ",":
                    self.take()
                    keys.append(self.expression())
                self.take("]")
                return ("index", text, keys)
            if text in _KEYWORDS:
                raise ToolError(f"awk: cmd. line:1: syntax error at '{text}'", 2)
            return ("var", text)
        raise ToolError(f"awk: cmd. line:1: syntax error at '{text or 'end of program'}'", 2)


def _unescape(text: str) -> str:
    return re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "/": "/"}.get(m.group(1), "\\" + m.group(1)),
        text,
    )


def _number_text(value: float) -> str:
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return f"{value:.6g}"


class _Strnum(str):
    """A field or input value: a string that compares as a number when it looks like one."""


class Awk:
    """One awk program over input text; `run()` returns (output, exit status)."""

    def __init__(self, source: str, *, separator: str | None = None, assignments: dict[str, str] | None = None):
        self.rules = _Parser(_tokens(source)).program()
        self.vars: dict[str, object] = {"FS": separator if separator is not None else " ", "OFS": " ", "ORS": "\n"}
        self.vars |= {"NR": 0.0, "NF": 0.0, "FNR": 0.0, "SUBSEP": "\x1c", "RS": "\n"}
        for name, value in (assignments or {}).items():
            self.vars[name] = _Strnum(_unescape(value))
        self.arrays: dict[str, dict[str, object]] = {}
        self.fields: list[str] = [""]
        self.out: list[str] = []
        self.steps = 0

    # -- records ---------------------------------------------------------------------------------

    def set_record(self, line: str) -> None:
        separator = str(self.vars["FS"])
        if separator == " ":
            parts = line.split()
        elif len(separator) == 1 and separator != "\\":
            parts = line.split(separator) if line else []
        else:
            parts = re.split(separator, line) if line else []
        self.fields = [line, *parts]
        self.vars["NF"] = float(len(parts))

    def field(self, index: int) -> str:
        if index < 0:
            raise ToolError(f"awk: trying to access out of range field {index}", 2)
        return self.fields[index] if index < len(self.fields) else ""

    def set_field(self, index: int, value: str) -> None:
        if index == 0:
            self.set_record(value)
            return
        while len(self.fields) <= index:
            self.fields.append("")
        self.fields[index] = value
        self.vars["NF"] = float(len(self.fields) - 1)
        self.fields[0] = str(self.vars["OFS"]).join(self.fields[1:])

    # -- running ---------------------------------------------------------------------------------

    def run(self, text: str) -> tuple[str, int]:
        status = 0
        try:
            for rule in self.rules:
                if rule.kind == "BEGIN":
                    self.execute(rule.action)
            main = [rule for rule in self.rules if rule.kind == "main"]
            if main or any(rule.kind == "END" for rule in self.rules):
                lines = text.split("\n")
                if lines and lines[-1] == "":
                    lines.pop()
                for line in lines:
                    self.vars["NR"] = float(self.vars["NR"]) + 1
                    self.vars["FNR"] = self.vars["NR"]
                    self.set_record(line)
                    try:
                        for rule in main:
                            if rule.pattern is None or self.truth(self.value(rule.pattern)):
                                if rule.action is None:
                                    self.out.append(self.fields[0] + str(self.vars["ORS"]))
                                else:
                                    self.execute(rule.action)
                    except _Next:
                        continue
        except _ExitProgram as done:
            status = done.code
        try:
            for rule in self.rules:
                if rule.kind == "END":
                    self.execute(rule.action)
        except _ExitProgram as done:
            status = done.code
        return "".join(self.out), status

    def execute(self, statements: list) -> None:
        for statement in statements:
            self.statement(statement)

    def statement(self, node: tuple) -> None:
        self.steps += 1
        if self.steps > 1_000_000:
            raise ToolError("awk: the program ran too long for the simulated runtime", 2)
        kind = node[0]
        if kind == "block":
            self.execute(node[1])
        elif kind == "expr":
            self.value(node[1])
        elif kind == "print":
            values = [self.text_of(self.value(arg)) for arg in node[1]] if node[1] else [self.fields[0]]
            self.out.append(str(self.vars["OFS"]).join(values) + str(self.vars["ORS"]))
        elif kind == "printf":
            if not node[1]:
                raise ToolError("awk: printf: no format", 2)
            values = [self.text_of(self.value(arg)) for arg in node[1]]
            self.out.append(printf(values[0], values[1:]))
        elif kind == "if":
            if self.truth(self.value(node[1])):
                self.statement(node[2])
            elif node[3] is not None:
                self.statement(node[3])
        elif kind == "while":
            while self.truth(self.value(node[1])):
                self.statement(node[2])
        elif kind == "for":
            _, init, condition, step, body = node
            if init is not None:
                self.value(init)
            while condition is None or self.truth(self.value(condition)):
                self.statement(body)
                if step is not None:
                    self.value(step)
        elif kind == "for_in":
            _, name, array, body = node
            for key in list(self.arrays.get(array, {})):
                self.vars[name] = key
                self.statement(body)
        elif kind == "next":
            raise _Next
        elif kind == "exit":
            raise _ExitProgram(int(self.number(self.value(node[1]))) if node[1] is not None else 0)
        elif kind == "delete":
            target = node[1]
            if target[0] == "index":
                self.arrays.get(target[1], {}).pop(self.key(target[2]), None)
            else:
                self.arrays.pop(target[1], None)

    # -- values ----------------------------------------------------------------------------------

    def key(self, keys: list) -> str:
        return str(self.vars["SUBSEP"]).join(self.text_of(self.value(k)) for k in keys)

    def number(self, value: object) -> float:
        if isinstance(value, float):
            return value
        match = re.match(r"\s*[-+]?(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)", str(value))
        return float(match.group(0)) if match else 0.0

    def text_of(self, value: object) -> str:
        return _number_text(value) if isinstance(value, float) else str(value)

    def truth(self, value: object) -> bool:
        if isinstance(value, float):
            return value != 0
        if isinstance(value, _Strnum) and _looks_numeric(value):
            return self.number(value) != 0
        return value != ""

    def regex(self, node: tuple) -> re.Pattern:
        pattern = node[1] if node[0] == "regex" else self.text_of(self.value(node))
        return compile_posix(pattern, extended=True, tool="awk")

    def value(self, node: tuple) -> object:
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "str":
            return node[1]
        if kind == "regex":
            return float(bool(self.regex(node).search(self.fields[0])))
        if kind == "var":
            name = node[1]
            return self.vars.get(name, "")
        if kind == "field":
            return _Strnum(self.field(int(self.number(self.value(node[1])))))
        if kind == "index":
            return self.arrays.setdefault(node[1], {}).setdefault(self.key(node[2]), "")
        if kind == "group":
            return self.key(node[1])
        if kind == "in":
            key = self.key(node[1][1]) if node[1][0] == "group" else self.text_of(self.value(node[1]))
            return float(key in self.arrays.get(node[2], {}))
        if kind == "assign":
            return self.assign(node)
        if kind == "incr":
            _, op, prefix, target = node
            old = self.number(self.value(target))
            new = old + (1 if op == "++" else -1)
            self.store(target, new)
            return new if prefix else old
        if kind == "cond":
            return self.value(node[2]) if self.truth(self.value(node[1])) else self.value(node[3])
        if kind == "or":
            return float(self.truth(self.value(node[1])) or self.truth(self.value(node[2])))
        if kind == "and":
            return float(self.truth(self.value(node[1])) and self.truth(self.value(node[2])))
        if kind == "not":
            return float(not self.truth(self.value(node[1])))
        if kind == "match":
            _, negate, left, right = node
            found = bool(self.regex(right).search(self.text_of(self.value(left))))
            return float(found != negate)
        if kind == "compare":
            return self.compare(node[1], self.value(node[2]), self.value(node[3]))
        if kind == "concat":
            return self.text_of(self.value(node[1])) + self.text_of(self.value(node[2]))
        if kind == "arith":
            return self.arith(node[1], self.number(self.value(node[2])), self.number(self.value(node[3])))
        if kind == "call":
            return self.call(node[1], node[2])
        raise ToolError(f"awk: cannot evaluate {kind}", 2)

    def compare(self, op: str, left: object, right: object) -> float:
        numeric = all(isinstance(v, float) or (isinstance(v, _Strnum) and _looks_numeric(v)) for v in (left, right))
        a, b = (self.number(left), self.number(right)) if numeric else (self.text_of(left), self.text_of(right))
        result = {"<": a < b, "<=": a <= b, "==": a == b, "!=": a != b, ">": a > b, ">=": a >= b}[op]
        return float(result)

    def arith(self, op: str, a: float, b: float) -> float:
        if op in ("/", "%") and b == 0:
            raise ToolError("awk: cmd. line:1: fatal: division by zero attempted", 2)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if op == "%":
            return math.fmod(a, b)
        return a**b

    def assign(self, node: tuple) -> object:
        _, op, target, source = node
        value = self.value(source)
        if op != "=":
            value = self.arith(op[0], self.number(self.value(target)), self.number(value))
        self.store(target, value)
        return value

    def store(self, target: tuple, value: object) -> None:
        if target[0] == "var":
            self.vars[target[1]] = value
            if target[1] == "NF":
                count = int(self.number(value))
                self.fields = (self.fields + [""] * count)[: count + 1]
                self.fields[0] = str(self.vars["OFS"]).join(self.fields[1:])
        elif target[0] == "field":
            self.set_field(int(self.number(self.value(target[1]))), self.text_of(value))
        else:
            self.arrays.setdefault(target[1], {})[self.key(target[2])] = value

    def call(self, name: str, args: list) -> object:
        def text(index: int, default: str = "") -> str:
            return self.text_of(self.value(args[index])) if index < len(args) else default

        def num(index: int, default: float = 0.0) -> float:
            return self.number(self.value(args[index])) if index < len(args) else default

        if name == "length":
            if args and args[0][0] == "var" and args[0][1] in self.arrays:
                return float(len(self.arrays[args[0][1]]))
            return float(len(text(0, self.fields[0])))
        if name == "substr":
            value, start = text(0), num(1)
            length = num(2, float(len(value) + 1)) if len(args) > 2 else float(len(value) + 1)
            first = max(round(start), 1)
            last = round(start) + round(length)
            return value[first - 1 : max(last - 1, first - 1)]
        if name == "index":
            return float(text(0).find(text(1)) + 1)
        if name == "split":
            value = text(0)
            separator = text(2) if len(args) > 2 else str(self.vars["FS"])
            parts = (
                value.split()
                if separator == " "
                else re.split(re.escape(separator) if len(separator) == 1 else separator, value)
            )
            array = args[1][1]
            self.arrays[array] = {str(i): _Strnum(part) for i, part in enumerate(parts, 1)}
            return float(len(parts))
        if name in ("sub", "gsub"):
            regex = self.regex(args[0])
            replacement = text(1)
            target = args[2] if len(args) > 2 else ("field", ("num", 0.0))
            original = self.text_of(self.value(target))
            template = replacement.replace("\\&", "\x00")

            def replace(match: re.Match) -> str:
                return template.replace("&", match.group(0)).replace("\x00", "&")

            changed, count = regex.subn(replace, original, count=0 if name == "gsub" else 1)
            if count:
                self.store(target, changed)
            return float(count)
        if name == "match":
            found = self.regex(args[1]).search(text(0))
            self.vars["RSTART"] = float(found.start() + 1) if found else 0.0
            self.vars["RLENGTH"] = float(found.end() - found.start()) if found else -1.0
            return self.vars["RSTART"]
        if name == "sprintf":
            values = [self.text_of(self.value(arg)) for arg in args]
            return printf(values[0], values[1:]) if values else ""
        if name == "tolower":
            return text(0).lower()
        if name == "toupper":
            return text(0).upper()
        if name == "int":
            return float(int(num(0)))
        if name in ("sqrt", "exp", "log", "sin", "cos"):
            return float(getattr(math, name)(num(0)))
        if name == "atan2":
            return math.atan2(num(0), num(1))
        if name == "rand":
            return 0.237788  # what a fresh busybox awk's rand() gives first: runs stay deterministic
        if name == "srand":
            return 0.0
        raise UnsupportedOption("awk", name)


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"\s*[-+]?(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)\s*", text))


def awk(source: str, text: str, *, separator: str | None = None, assignments: dict[str, str] | None = None):
    """Run an awk program over `text`: (output, exit status)."""
    return Awk(source, separator=separator, assignments=assignments).run(text)
