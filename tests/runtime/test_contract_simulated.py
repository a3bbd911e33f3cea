"""The runtime contract, against the simulated runtime (the `runtime` fixture of conftest.py)."""

from tests.runtime.contract import *  # noqa: F403 - pytest collects the suite's tests from here
