"""Which engine refusals mean another network holds the subnet (clusters.runtime.docker)."""

from __future__ import annotations

import pytest

from clusters.runtime.docker import subnet_taken


@pytest.mark.parametrize(
    ("message", "taken"),
    [
        ("creating network kube-tutor-x: Pool overlaps with other one on this address space", True),
        ("creating network kube-tutor-x: failed to allocate gateway (10.213.16.1): Address already in use", True),
        ("creating network kube-tutor-x: could not find an available, non-overlapping IPv4 address pool", True),
        ("creating network kube-tutor-x: permission denied", False),
        ("creating network kube-tutor-x: failed to allocate gateway (10.213.16.1): no space left", False),
    ],
)
def test_the_engines_words_for_a_subnet_another_network_holds(message, taken):
    assert subnet_taken(message) is taken
