"""Loaded first (pytest -p): defaults the settings need, set before Django reads them."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
# The tests' own var/ folder, so that a test run never touches the data of `make run`.
os.environ.setdefault("TUTOR_VAR_DIR", str(REPO / "var" / "tests"))
# Sandboxes made in the test process run on the simulated runtime unless a test asks for Docker:
# a Docker sandbox claims a network in the engine, which a rolled-back test database would leave
# behind. Stacks of their own (tests/system/stack.py) choose their runtime themselves.
os.environ.setdefault("TUTOR_RUNTIME", "simulated")
# Every controllers run in the tests, and in the stacks they start, checks its cached objects
# against the store (clusters.state_cache): a planner that changed a body, or a write that left
# no change in the log, fails the test that did it.
os.environ.setdefault("TUTOR_STATE_CACHE_VERIFY", "1")
