"""The import contracts that `make lint` checks (pyproject.toml) cover what they say they cover."""

import tomllib
from pathlib import Path

import clusters.controllers

ROOT = Path(__file__).resolve().parents[2]
# The controllers' two Django-side modules: they read and write through the store.
DJANGO_SIDE = {"actor", "manager"}


def test_every_planner_module_is_held_to_the_contract_that_keeps_planners_pure():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if "planners" in c["name"]]
    package = Path(clusters.controllers.__file__).parent
    planners = {path.stem for path in package.glob("*.py")} - {"__init__"} - DJANGO_SIDE
    assert sorted(contract["source_modules"]) == sorted(f"clusters.controllers.{name}" for name in planners)
