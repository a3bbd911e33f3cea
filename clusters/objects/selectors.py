"""Label and field selectors, parsed and matched as pure functions.

Label selectors take the upstream syntax: `app=web`, `tier!=cache`, `env in (prod, qa)`,
`env notin (dev)`, `release` (exists), `!release` (does not exist), joined by commas.
Field selectors take `path=value`, `path==value` and `path!=value` on a dotted path into the
object (`metadata.name`, `involvedObject.uid`, `spec.nodeName`, `status.phase`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class SelectorError(ValueError):
    """A selector string that cannot be parsed; the message says which part and why."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case "=":
                return present and value == self.values[0]
            case "!=":
                return not present or value != self.values[0]
            case "in":
                return present and value in self.values
            case "notin":
                return not present or value not in self.values
            case "exists":
                return present
            case _:
                return not present


_SET_REQUIREMENT = re.compile(r"^\s*([^\s,!=()]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQUALITY = re.compile(r"^\s*([^\s,!=()]+)\s*(==|=|!=)\s*([^\s,!=()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s,!=()]+)\s*$")


def _split_top_level(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def parse_label_selector(selector: str | None) -> tuple[Requirement, ...]:
    requirements = []
    for part in _split_top_level(selector or ""):
        if match := _SET_REQUIREMENT.match(part):
            values = tuple(v.strip() for v in match.group(3).split(",") if v.strip())
            requirements.append(Requirement(match.group(1), match.group(2), values))
        elif match := _EQUALITY.match(part):
            operator = "!=" if match.group(2) == "!=" else "="
            requirements.append(Requirement(match.group(1), operator, (match.group(3),)))
        elif match := _EXISTS.match(part):
            requirements.append(Requirement(match.group(2), "!" if match.group(1) else "exists"))
        else:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
    return tuple(requirements)


def labels_match(requirements: tuple[Requirement, ...], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    return all(requirement.matches(labels) for requirement in requirements)


def selector_from_match_labels(selector: dict | None) -> tuple[Requirement, ...]:
    """A `LabelSelector` object (matchLabels, matchExpressions) as requirements."""
    selector = selector or {}
    requirements = [Requirement(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expression in selector.get("matchExpressions") or []:
        operator = operators[expression["operator"]]
        requirements.append(Requirement(expression["key"], operator, tuple(expression.get("values") or ())))
    return tuple(requirements)


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    equal: bool
    value: str

    def matches(self, obj: dict) -> bool:
        return (field_value(obj, self.path) == self.value) is self.equal


def parse_field_selector(selector: str | None) -> tuple[FieldRequirement, ...]:
    requirements = []
    for part in _split_top_level(selector or ""):
        match = re.fullmatch(r"\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*", part)
        if not match:
            raise SelectorError(f"invalid selector: {part.strip()!r}; can't understand it")
        requirements.append(FieldRequirement(match.group(1), match.group(2) != "!=", match.group(3)))
    return tuple(requirements)


def field_value(obj: dict, path: str) -> str:
    """The value at a dotted path as a field selector compares it (a string; missing is "")."""
    value: object = obj
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_match(requirements: tuple[FieldRequirement, ...], obj: dict) -> bool:
    return all(requirement.matches(obj) for requirement in requirements)
