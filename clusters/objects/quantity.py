"""Resource quantities (apimachinery `pkg/api/resource`): `100m`, `1.5`, `64Mi`, `1G`, `2e3`.

`parse_quantity` reads the text as `resource.ParseQuantity` does, with its error messages;
`quantity_from_json` reads a manifest's value (a string or a bare number) as `UnmarshalJSON`
does; `str(quantity)` and `canonical_quantity` give the canonical form the API server stores and
returns (`0.5` → `500m`, `1024Mi` → `1Gi`). The amount is exact (a Fraction, kept to nano
precision as upstream keeps it); `scaled_value` and friends give it as a whole number of bytes,
cores or milli-cores, rounded up as upstream's `Value` and `MilliValue` round.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix"
QUANTITY_NUMERIC_ERROR = "unable to parse numeric part of quantity"

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXPONENT = {exponent: suffix for suffix, exponent in _BINARY_SUFFIXES.items()}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_NANO = Fraction(1, 10**9)
_MILLI = Fraction(1, 1000)
# Far beyond any real resource amount; keeps "1e999999" from costing seconds of big-int work.
_MAX_DECIMAL_EXPONENT = 400


class QuantityError(ValueError):
    """A quantity that does not parse; str() is upstream's message."""


@dataclass(frozen=True)
class Quantity:
    """An exact amount and the format upstream keeps for printing it (DecimalSI, BinarySI, DecimalExponent)."""

    value: Fraction
    format: str

    def __str__(self) -> str:
        return _canonical(self)

    def scaled_value(self, scale: int) -> int:
        """The amount in units of 10**scale, rounded up: upstream's `ScaledValue` (ceil)."""
        return math.ceil(self.value / Fraction(10) ** scale)

    def int_value(self) -> int:
        """Whole units (bytes, cores), rounded up: upstream's `Value`."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """Thousandths of a unit (milli-cores), rounded up: upstream's `MilliValue`."""
        return self.scaled_value(-3)


def _split_quantity(text: str) -> tuple[bool, str, str, str]:
    """(positive, integer digits, fraction digits, suffix), scanned the way parseQuantityString does."""
    pos, end = 0, len(text)
    positive = True
    if text[0] in "+-":
        positive = text[0] != "-"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    number = text[start:pos] or "0"
    if pos >= end:
        return positive, number, "", ""
    fraction = ""
    if text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        fraction = text[start:pos]
        if pos >= end:
            return positive, number, fraction, ""
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(QUANTITY_FORMAT_ERROR)
    return positive, number, fraction, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], "DecimalSI"
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], "BinarySI"
    if len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?[0-9]+", suffix[1:]):
        return 10, int(suffix[1:]), "DecimalExponent"
    raise QuantityError(QUANTITY_SUFFIX_ERROR)


def _round_away_from_zero(value: Fraction, unit: Fraction) -> Fraction:
    steps = value / unit
    if steps.denominator == 1:
        return value
    whole = math.ceil(steps) if steps > 0 else math.floor(steps)
    return whole * unit


def parse_quantity(text: str) -> Quantity:
    """resource.ParseQuantity: `100m`, `1.5`, `64Mi`, `1G`, `2e3`; raises QuantityError with upstream's words."""
    if not text:
        raise QuantityError(QUANTITY_FORMAT_ERROR)
    if text == "0":
        return Quantity(Fraction(0), "DecimalSI")
    positive, number, fraction, suffix = _split_quantity(text)
    base, exponent, fmt = _interpret_suffix(suffix)
    if base == 10 and abs(exponent) > _MAX_DECIMAL_EXPONENT:
        raise QuantityError(QUANTITY_NUMERIC_ERROR)
    value = Fraction(int(number + fraction), 10 ** len(fraction))
    value *= Fraction(base) ** exponent
    if not positive:
        value = -value
    # Amounts are kept to nano precision, rounding up (away from zero) as inf.RoundUp does.
    value = _round_away_from_zero(value, _NANO)
    if fmt == "BinarySI" and 0 < abs(value) < 1:
        fmt = "DecimalSI"
    return Quantity(value, fmt)


def quantity_from_json(raw: Any) -> Quantity:
    """A Quantity as Quantity.UnmarshalJSON reads it: a string or the literal text of a number."""
    if isinstance(raw, bool):
        raise QuantityError(QUANTITY_FORMAT_ERROR)
    if isinstance(raw, int):
        return parse_quantity(str(raw))
    if isinstance(raw, float):
        return parse_quantity(_json_number_text(raw))
    if isinstance(raw, str):
        return parse_quantity(raw.strip())
    raise QuantityError(QUANTITY_FORMAT_ERROR)


def _json_number_text(number: float) -> str:
    text = repr(number)
    return text[:-2] if text.endswith(".0") else text


def _decimal_parts(value: Fraction) -> tuple[int, int]:
    """(mantissa, exponent) with exponent a multiple of 3 and no spare factors of ten, as AsCanonicalBytes."""
    scaled = value * 10**9
    mantissa, exponent = int(scaled), -9
    while mantissa and mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3:
        mantissa *= 10
        exponent -= 1
    return mantissa, exponent


def _canonical(quantity: Quantity) -> str:
    value, fmt = quantity.value, quantity.format
    if value == 0:
        return "0"
    if fmt == "BinarySI" and (-1024 < value < 1024 or value.denominator != 1):
        fmt = "DecimalSI"
    if fmt == "BinarySI":
        mantissa, power = int(value), 0
        while power < 6 and mantissa % 1024 == 0:
            mantissa //= 1024
            power += 1
        return f"{mantissa}{_BINARY_BY_EXPONENT.get(power * 10, '')}"
    mantissa, exponent = _decimal_parts(value)
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    suffix = _DECIMAL_BY_EXPONENT.get(exponent)
    return f"{mantissa}{suffix}" if suffix is not None else f"{mantissa}e{exponent}"


def canonical_quantity(raw: Any, *, round_to_milli: bool = False) -> str:
    """The string the apiserver stores and returns for a quantity (`0.5` → `500m`, `1024Mi` → `1Gi`).

    `round_to_milli` rounds up to a thousandth first, as the defaulting of resource lists does.
    """
    quantity = quantity_from_json(raw)
    if round_to_milli:
        quantity = Quantity(_round_away_from_zero(quantity.value, _MILLI), quantity.format)
    return str(quantity)
