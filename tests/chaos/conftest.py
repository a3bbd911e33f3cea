"""The fault trials (`make chaos`): long, and hard on the machine's services, so they run only
when asked for by path (`pytest tests/chaos`); a plain `pytest` (and `make test`) collects the
folder but deselects them. Each is marked `chaos` (and `system`: it starts real processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "chaos: a fault trial, run by `make chaos` (pytest tests/chaos)")


def _asked_for(config) -> bool:
    """Whether a path on the command line lies in this folder."""
    for argument in config.args:
        path = Path(str(argument).split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if HERE in Path(str(item.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.chaos)
        item.add_marker(pytest.mark.system)
    if mine and not _asked_for(config):
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]
