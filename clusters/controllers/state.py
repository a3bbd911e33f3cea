"""A read-only snapshot of one sandbox's objects, as planners see it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ClusterState:
    """Objects grouped by kind. Bodies are the stored JSON, exactly as the API would return them.

    Build one in tests with `ClusterState.of([...bodies...])`."""

    by_kind: dict[str, tuple[dict, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: Iterable[dict]) -> ClusterState:
        grouped: dict[str, list[dict]] = {}
        for obj in objects:
            grouped.setdefault(obj["kind"], []).append(obj)
        return cls({kind: tuple(items) for kind, items in grouped.items()})

    def objects(self, kind: str, namespace: str | None = None) -> tuple[dict, ...]:
        items = self.by_kind.get(kind, ())
        if namespace is None:
            return items
        return tuple(o for o in items if o["metadata"].get("namespace", "") == namespace)

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        for obj in self.by_kind.get(kind, ()):
            metadata = obj["metadata"]
            if metadata["name"] == name and metadata.get("namespace", "") == namespace:
                return obj
        return None

    def owned_by(self, kind: str, owner: dict) -> tuple[dict, ...]:
        """Objects of `kind` whose controller ownerReference points at `owner` (by uid)."""
        uid = owner["metadata"]["uid"]
        return tuple(
            o
            for o in self.by_kind.get(kind, ())
            if any(r.get("uid") == uid and r.get("controller") for r in o["metadata"].get("ownerReferences", []))
        )
