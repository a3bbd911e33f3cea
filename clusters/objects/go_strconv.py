"""Go's `strconv`, as far as the API server's messages quote it: `Quote` and `Atoi`'s errors."""

from __future__ import annotations

import re

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
_INT64 = range(-(2**63), 2**63)


def go_quote(text: str) -> str:
    """Go's strconv.Quote: printable characters kept, the rest escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_atoi(text: str) -> int:
    """Go's strconv.Atoi on a 64-bit platform; ValueError carries its message
    (`strconv.Atoi: parsing "x": invalid syntax`)."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    number = int(text)
    if number not in _INT64:
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return number
