"""Manifests shaped like the Kubernetes documentation's examples apply cleanly; broken ones are
rejected with the field that is wrong, and leave nothing behind."""

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "data" / "manifests"
VALID = sorted((CORPUS / "valid").glob("*.yaml"))
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))


@pytest.mark.parametrize("manifest", VALID, ids=[p.stem for p in VALID])
def test_a_documentation_example_applies_cleanly(kubectl, manifest):
    result = kubectl("apply", "-f", str(manifest))
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    assert all(line.endswith(" created") for line in lines), result.stdout
    # Applying again stores nothing new. (kubectl may still say "configured" where a list without
    # a merge key, like volumeClaimTemplates, differs from the defaulted live object, as it does
    # against a real cluster; what matters is that the server's objects stay as they are.)
    before = kubectl.json("get", "-f", str(manifest))
    kubectl("apply", "-f", str(manifest))
    after = kubectl.json("get", "-f", str(manifest))
    versions = [[item["metadata"]["resourceVersion"] for item in doc.get("items", [doc])] for doc in (before, after)]
    assert versions[0] == versions[1]


@pytest.mark.parametrize("manifest", INVALID, ids=[p.stem for p in INVALID])
def test_a_broken_manifest_is_rejected_naming_the_field(kubectl, manifest):
    expected = manifest.read_text().splitlines()[0].removeprefix("# expect: ")
    result = kubectl("apply", "-f", str(manifest), check=False)
    assert result.returncode == 1
    assert expected in result.stderr, result.stderr
    assert kubectl("get", "all", "-o", "name").stdout == ""


def test_the_corpus_is_not_empty():
    assert len(VALID) >= 10
    assert len(INVALID) >= 10
