"""A manifest's errors are shown at the line of the field they name (the editor marks that line)."""

from tutor.sandboxes.diagnostics import Diagnostic, apply_diagnostics, field_path

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      imagee: nginx
      ports:
        - containerPort: 99999
"""


def status(message: str, causes=()) -> dict:
    details = {"causes": [{"field": field, "message": text} for field, text in causes]} if causes else {}
    return {"kind": "Status", "message": message, "details": details}


def test_it_splits_a_field_path_into_keys_and_indexes():
    assert field_path("spec.containers[0].ports[1].containerPort") == [
        "spec",
        "containers",
        0,
        "ports",
        1,
        "containerPort",
    ]


def test_an_unknown_field_is_marked_at_its_own_line_in_its_own_document():
    error = status(
        'Pod in version "v1" cannot be handled as a Pod: '
        'strict decoding error: unknown field "spec.containers[0].imagee"'
    )
    [found] = apply_diagnostics(MANIFEST, failures=[(1, error)])
    assert (found.line, found.column) == (13, 7)
    assert "imagee" in found.message


def test_each_cause_of_an_invalid_object_is_marked_where_its_field_is():
    error = status(
        'Pod "web" is invalid',
        [("spec.containers[0].ports[0].containerPort", "Invalid value: 99999: must be between 1 and 65535")],
    )
    [found] = apply_diagnostics(MANIFEST, failures=[(1, error)])
    assert found.line == 15
    assert found.message.startswith("spec.containers[0].ports[0].containerPort: Invalid value")


def test_a_field_that_is_missing_is_marked_at_the_nearest_part_that_exists():
    error = status('Pod "web" is invalid', [("spec.containers[0].image", "Required value")])
    [found] = apply_diagnostics(MANIFEST, failures=[(1, error)])
    assert found.line == 12  # the container whose image is missing


def test_a_yaml_error_is_marked_where_the_parser_stopped():
    [found] = apply_diagnostics("a: 1\nb: [\n", error="error parsing YAML at line 3, column 1: expected ']'")
    assert found == Diagnostic(3, 1, "error parsing YAML at line 3, column 1: expected ']'")


def test_an_error_that_names_no_field_marks_the_document():
    [found] = apply_diagnostics(MANIFEST, failures=[(0, status('configmaps "settings" already exists'))])
    assert (found.line, found.message) == (1, 'configmaps "settings" already exists')
