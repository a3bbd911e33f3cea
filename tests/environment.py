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
