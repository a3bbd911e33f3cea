"""Where in a manifest an error is: the line of the field a Kubernetes error names.

The API names a problem by its field path (`spec.containers[0].image: Required value`, or
`unknown field "spec.containers[0].imagee"`), a YAML error by its line; the editor shows each at
its line. Pure functions over the manifest's text (PyYAML's composer keeps every node's mark).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

YAML_POSITION = re.compile(r"line (\d+), column (\d+)")
QUOTED_FIELD = re.compile(r'(?:unknown|duplicate) field "([^"]+)"')
PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Diagnostic:
    line: int  # 1-based
    column: int  # 1-based
    message: str
    severity: str = "error"


def field_path(path: str) -> list[str | int]:
    """`spec.containers[0].image` → ["spec", "containers", 0, "image"]."""
    return [int(index) if index else name for name, index in PATH_PART.findall(path)]


def _documents(text: str) -> list[yaml.Node]:
    try:
        return [node for node in yaml.compose_all(text, Loader=yaml.SafeLoader) if node is not None]
    except yaml.YAMLError:
        return []


def node_position(document: yaml.Node, path: list[str | int]) -> tuple[int, int]:
    """The line and column of the deepest node along `path` (the key's, for a mapping entry)."""
    node, mark = document, document.start_mark
    for part in path:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if match is None:
                break
            mark, node = match[0].start_mark, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1


def _status_fields(status: dict) -> list[tuple[str, str]]:
    """(field path, message) pairs of a Kubernetes Status: its causes, or the field quoted in its
    message; a Status naming no field points at the document itself."""
    causes = (status.get("details") or {}).get("causes") or []
    pairs = [(c.get("field", ""), f"{c.get('field', '')}: {c.get('message', '')}".strip(": ")) for c in causes]
    if pairs:
        return pairs
    message = status.get("message", "")
    quoted = QUOTED_FIELD.findall(message)
    return [(path, message) for path in quoted] or [("", message)]


def apply_diagnostics(text: str, *, error: str = "", failures: list[tuple[int, dict]] = ()) -> list[Diagnostic]:
    """Diagnostics for an apply: a YAML error at its position, or each failed document's Status
    (given as (document index, Status)) at the line of the field it names."""
    if error:
        position = YAML_POSITION.search(error)
        line, column = (int(position[1]), int(position[2])) if position else (1, 1)
        return [Diagnostic(line, column, error)]
    documents = _documents(text)
    found = []
    for index, status in failures:
        document = documents[index] if index < len(documents) else None
        for path, message in _status_fields(status):
            if document is None:
                found.append(Diagnostic(1, 1, message))
                continue
            line, column = node_position(document, field_path(path))
            found.append(Diagnostic(line, column, message))
    return found
