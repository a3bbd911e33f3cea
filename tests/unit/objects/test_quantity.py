"""Resource quantities as apimachinery's resource.Quantity parses, prints and measures them."""

from fractions import Fraction

import pytest

from clusters.objects.quantity import (
    QUANTITY_FORMAT_ERROR,
    QUANTITY_NUMERIC_ERROR,
    QUANTITY_SUFFIX_ERROR,
    QuantityError,
    canonical_quantity,
    parse_quantity,
    quantity_from_json,
)


@pytest.mark.parametrize(
    ("text", "value", "canonical"),
    [
        ("0", 0, "0"),
        ("-0", 0, "0"),
        ("100m", Fraction(1, 10), "100m"),
        ("1.5", Fraction(3, 2), "1500m"),
        (".5", Fraction(1, 2), "500m"),
        ("5.", 5, "5"),
        ("1.0", 1, "1"),
        ("0.1m", Fraction(1, 10_000), "100u"),
        ("5n", Fraction(5, 10**9), "5n"),
        ("64Mi", 64 * 2**20, "64Mi"),
        ("1G", 10**9, "1G"),
        ("1000k", 10**6, "1M"),
        ("2e3", 2000, "2e3"),
        ("1E3", 1000, "1e3"),
        ("1024Mi", 2**30, "1Gi"),
        ("1.5Gi", 3 * 2**29, "1536Mi"),
        ("12.5Mi", 25 * 2**19, "12800Ki"),
        ("0.5Ki", 512, "512"),  # below 1024 a binary amount prints in decimal
        ("0.1Ki", Fraction(512, 5), "102400m"),  # and so does a fractional one
        ("1000m", 1, "1"),
        ("-250m", Fraction(-1, 4), "-250m"),
        ("0.0000000001", Fraction(1, 10**9), "1n"),  # kept to nano precision, rounded up
        ("-0.0000000001", Fraction(-1, 10**9), "-1n"),  # away from zero
        ("+1k", 1000, "1k"),
        ("007", 7, "7"),
    ],
)
def test_it_parses_quantities_and_prints_them_canonically(text, value, canonical):
    quantity = parse_quantity(text)
    assert quantity.value == value
    assert str(quantity) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12Qi", QUANTITY_FORMAT_ERROR),
        ("", QUANTITY_FORMAT_ERROR),
        ("1.5.5", QUANTITY_FORMAT_ERROR),
        ("lots", QUANTITY_FORMAT_ERROR),
        (" 1", QUANTITY_FORMAT_ERROR),
        ("1 ", QUANTITY_FORMAT_ERROR),
        ("1ki", QUANTITY_SUFFIX_ERROR),
        ("1ee3", QUANTITY_SUFFIX_ERROR),
        ("1Mi3", QUANTITY_SUFFIX_ERROR),
        ("1e999999", QUANTITY_NUMERIC_ERROR),
    ],
)
def test_it_rejects_bad_quantities_with_upstreams_reason(text, message):
    with pytest.raises(QuantityError) as raised:
        parse_quantity(text)
    assert str(raised.value) == message


def test_json_reads_strings_trimmed_and_numbers_by_their_literal_text():
    assert str(quantity_from_json(" 100m ")) == "100m"
    assert str(quantity_from_json(3)) == "3"
    assert str(quantity_from_json(0.5)) == "500m"
    assert str(quantity_from_json(1e3)) == "1k"
    for not_a_quantity in (True, None, [1], {"value": 1}):
        with pytest.raises(QuantityError, match="quantities must match"):
            quantity_from_json(not_a_quantity)


def test_the_canonical_form_can_round_up_to_milli_units_as_resource_lists_do():
    assert canonical_quantity(0.5) == "500m"
    assert canonical_quantity("1024Mi") == "1Gi"
    assert canonical_quantity("0.0001") == "100u"
    assert canonical_quantity("0.0001", round_to_milli=True) == "1m"
    assert canonical_quantity("-0.0001", round_to_milli=True) == "-1m"


@pytest.mark.parametrize(
    ("text", "whole", "milli", "nano"),
    [
        ("128Mi", 128 * 2**20, 128 * 2**20 * 1000, 128 * 2**20 * 10**9),
        ("250m", 1, 250, 250_000_000),
        ("1.5", 2, 1500, 1_500_000_000),
        ("0.0001", 1, 1, 100_000),
        ("2", 2, 2000, 2 * 10**9),
        ("-1.5", -1, -1500, -1_500_000_000),
    ],
)
def test_amounts_come_out_whole_rounded_up_as_value_and_milli_value_do(text, whole, milli, nano):
    quantity = parse_quantity(text)
    assert quantity.int_value() == whole
    assert quantity.milli_value() == milli
    assert quantity.scaled_value(-9) == nano
