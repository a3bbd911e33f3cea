"""Our three patch flavours against upstream's own code: `kubectl patch --local`.

`kubectl patch --local -f obj.json --type strategic|merge|json -p … -o json` applies a patch with
the same Go code the API server uses (apimachinery's strategicpatch with the compiled-in types'
merge keys, and evanphx/json-patch v4 for the two JSON flavours), without a server. Every case
of a generated corpus (tests/kubectl/patch_corpus.py) goes through both; the results must be
equal, and a patch one side refuses the other must refuse too, with the same message.

kubectl patches one object per run (a List file is not accepted with a patch of its own per
object), at about 80 ms a run; the runs go four at a time, so the corpus takes ten seconds or so.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from clusters.objects.patch import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, PatchError, apply_patch
from tests.kubectl.conftest import KUBECTL
from tests.kubectl.patch_corpus import JSON, MERGE, STRATEGIC, Case, corpus

pytestmark = pytest.mark.xdist_group("patch-differential")

CONTENT_TYPES = {STRATEGIC: STRATEGIC_MERGE_PATCH, MERGE: MERGE_PATCH, JSON: JSON_PATCH}
CASES = corpus()


@dataclass(frozen=True)
class Outcome:
    result: dict | None
    error: str | None


def kubectl_patch(case: Case, root: Path) -> Outcome:
    path = root / f"{case.name}.json"
    path.write_text(json.dumps(case.obj))
    command = [KUBECTL, "--kubeconfig", str(root / "no-server"), "patch", "--local", "-f", str(path)]
    completed = subprocess.run(
        [*command, "--type", case.patch_type, "-p", json.dumps(case.patch), "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(root)},
        check=False,
    )
    if completed.returncode != 0:
        return Outcome(None, completed.stderr.strip().removeprefix("error: "))
    return Outcome(json.loads(completed.stdout), None)


def our_patch(case: Case) -> Outcome:
    try:
        return Outcome(apply_patch(case.obj, json.dumps(case.patch).encode(), CONTENT_TYPES[case.patch_type]), None)
    except PatchError as error:
        return Outcome(None, str(error))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("patch-differential")
    (root / "no-server").write_text("")
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = pool.map(lambda case: kubectl_patch(case, root), CASES)
        return {case.name: outcome for case, outcome in zip(CASES, outcomes, strict=True)}


def kubectl_wording(ours: str, patch_type: str) -> str | None:
    """What kubectl prints for an error of ours, where kubectl itself rewords upstream's:
    getPatchedJSON rewrites a JSON patch's missing key, and a merge patch that is not an object
    only fails when kubectl decodes the result (the API server says `Invalid JSON Patch`)."""
    if patch_type == JSON and "doc is missing key" in ours:
        return f"Object to be patched is missing field ({ours[ours.index('key:') + 5 :]})"
    if patch_type == MERGE and ours == "Invalid JSON Patch":
        return None
    return ours


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_our_patch_gives_what_upstreams_code_gives(case, upstream):
    theirs, ours = upstream[case.name], our_patch(case)
    assert (ours.error is None) == (theirs.error is None), f"ours: {ours}\nkubectl: {theirs}"
    if ours.error is None:
        assert ours.result == theirs.result
    else:
        expected = kubectl_wording(ours.error, case.patch_type)
        if expected is not None:
            assert theirs.error == expected


def test_the_corpus_exercises_every_feature_and_both_outcomes(upstream):
    text = {case.name: json.dumps(case.patch) for case in CASES}
    for feature in ('"$patch": "delete"', '"$patch": "replace"', "$retainKeys", "$setElementOrder", "null"):
        assert sum(feature in patch for patch in text.values()) >= 10, feature
    assert {case.obj["kind"] for case in CASES} == {"Pod", "Deployment", "Service", "ConfigMap"}
    refused = [name for name, outcome in upstream.items() if outcome.error]
    assert 20 <= len(refused) <= len(CASES) // 3
    changed = [case for case in CASES if upstream[case.name].result not in (None, case.obj)]
    assert len(changed) >= len(CASES) // 2
