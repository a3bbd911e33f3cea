"""A generated corpus of patches for the differential test against kubectl's own patch code.

Deterministic (a seeded `random.Random`): the same cases on every run, so a difference found once
is found again. Each case is an object (a Pod, Deployment, Service or ConfigMap) and a patch of
one of the three types, built from the object's own fields: merge-keyed lists (containers, ports,
env, volumeMounts, volumes, Service ports), `$patch: delete/replace`, `$retainKeys`,
`$setElementOrder`, `$deleteFromPrimitiveList`, nulls, nested maps, atomic lists, and patches
that are wrong on purpose (a missing merge key, an unknown directive, a path that is not there).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

SEED = 20260727
STRATEGIC, MERGE, JSON = "strategic", "merge", "json"


@dataclass(frozen=True)
class Case:
    name: str
    obj: dict
    patch_type: str
    patch: Any


# --- the objects ----------------------------------------------------------------------------------


def _container(rng: random.Random, name: str) -> dict:
    container: dict = {"name": name, "image": rng.choice(["nginx:1.27", "busybox:1.36", "redis:7", "httpd:2.4"])}
    if rng.random() < 0.7:
        container["ports"] = [
            {"containerPort": port, "protocol": "TCP", **({"name": f"p{port}"} if rng.random() < 0.5 else {})}
            for port in rng.sample([80, 443, 8080, 9090, 6379], rng.randint(1, 3))
        ]
    if rng.random() < 0.7:
        container["env"] = [{"name": f"VAR_{i}", "value": str(rng.randint(0, 99))} for i in range(rng.randint(1, 3))]
    if rng.random() < 0.5:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    if rng.random() < 0.4:
        container["args"] = ["sleep", str(rng.randint(10, 3600))]
    if rng.random() < 0.3:
        container["resources"] = {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m"}}
    return container


def _pod_spec(rng: random.Random) -> dict:
    names = rng.sample(["app", "side", "proxy", "logger"], rng.randint(1, 3))
    spec: dict = {"containers": [_container(rng, name) for name in names]}
    if rng.random() < 0.6:
        spec["volumes"] = [{"name": "data", "emptyDir": {}}, {"name": "config", "configMap": {"name": "settings"}}]
    if rng.random() < 0.4:
        spec["tolerations"] = [{"key": "example.com/special", "operator": "Exists", "effect": "NoSchedule"}]
    if rng.random() < 0.4:
        spec["nodeSelector"] = {"disk": "ssd"}
    if rng.random() < 0.3:
        spec["initContainers"] = [{"name": "init", "image": "busybox:1.36", "command": ["true"]}]
    if rng.random() < 0.3:
        spec["imagePullSecrets"] = [{"name": "registry"}]
    spec["restartPolicy"] = "Always"
    return spec


def _metadata(rng: random.Random, name: str) -> dict:
    metadata: dict = {"name": name, "namespace": "default", "labels": {"app": name}}
    if rng.random() < 0.5:
        metadata["labels"]["app.kubernetes.io/part-of"] = "shop"
    if rng.random() < 0.5:
        metadata["annotations"] = {"note": "hello", "example.com/owner": "team-a"}
    if rng.random() < 0.4:
        metadata["finalizers"] = ["example.com/a", "example.com/b"]
    return metadata


def pod(rng: random.Random, index: int) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _metadata(rng, f"pod-{index}"), "spec": _pod_spec(rng)}


def deployment(rng: random.Random, index: int) -> dict:
    name = f"deploy-{index}"
    strategy = (
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        if rng.random() < 0.6
        else {"type": "Recreate"}
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(rng, name),
        "spec": {
            "replicas": rng.randint(1, 5),
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {"metadata": {"labels": {"app": name}}, "spec": _pod_spec(rng)},
        },
    }


def service(rng: random.Random, index: int) -> dict:
    ports = [
        {"name": name, "port": port, "targetPort": target, "protocol": "TCP"}
        for name, port, target in rng.sample([("http", 80, 8080), ("https", 443, 8443), ("metrics", 9090, 9090)], 2)
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(rng, f"svc-{index}"),
        "spec": {"selector": {"app": "web"}, "ports": ports, "type": "ClusterIP"},
    }


def config_map(rng: random.Random, index: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(rng, f"cm-{index}"),
        "data": {f"key{i}": f"value{rng.randint(0, 9)}" for i in range(rng.randint(1, 4))},
    }


MAKERS = (pod, deployment, service, config_map)


# --- strategic merge patches ----------------------------------------------------------------------


def _pod_spec_path(obj: dict) -> list[str]:
    return ["spec", "template", "spec"] if obj["kind"] == "Deployment" else ["spec"]


def _nest(path: list[str], value: Any) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


def _deep_merge(left: dict, right: dict) -> dict:
    merged = copy.deepcopy(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _containers_patch(rng: random.Random, obj: dict) -> dict | None:
    if obj["kind"] not in ("Pod", "Deployment"):
        return None
    spec_path = _pod_spec_path(obj)
    spec = obj
    for key in spec_path:
        spec = spec[key]
    containers = spec["containers"]
    target = rng.choice(containers)
    choice = rng.randrange(15)
    if choice == 12:
        patch = [{"name": "extra", "image": "x", "command": None, "env": [{"name": "A", "value": None}]}]
    elif choice == 13:
        patch = [{"name": target["name"], "ports": [{"containerPort": 8080, "name": "alt"}, {"containerPort": 8080}]}]
    elif choice == 14:
        patch = [{"name": target["name"], "env": [{"name": "NEW", "valueFrom": {"$patch": "delete"}}]}]
    elif choice == 0:
        patch = [{"name": target["name"], "image": "nginx:1.28"}]
    elif choice == 1:
        patch = [{"name": "extra", "image": "alpine:3.20"}]
    elif choice == 2:
        patch = [{"name": target["name"], "$patch": "delete"}]
    elif choice == 3:
        patch = [{"name": "only", "image": "alpine:3.20"}, {"$patch": "replace"}]
    elif choice == 4:
        env = [{"name": "VAR_0", "value": "changed"}, {"name": "NEW", "value": "x"}]
        patch = [{"name": target["name"], "env": env}]
    elif choice == 5:
        patch = [{"name": target["name"], "env": [{"name": "VAR_0", "$patch": "delete"}]}]
    elif choice == 6:
        patch = [{"name": target["name"], "ports": [{"containerPort": 7070, "protocol": "TCP"}]}]
    elif choice == 7:
        patch = [{"name": target["name"], "ports": [{"containerPort": 80, "$patch": "delete"}]}]
    elif choice == 8:
        patch = [{"name": target["name"], "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}]
    elif choice == 9:
        patch = [{"name": target["name"], "args": None, "resources": {"limits": {"cpu": None, "memory": "256Mi"}}}]
    elif choice == 10:
        order = [{"name": c["name"]} for c in containers]
        rng.shuffle(order)
        return _nest(spec_path, {"$setElementOrder/containers": order, "containers": [{"name": target["name"]}]})
    else:
        order = [{"name": c["name"]} for c in containers] + [{"name": "extra"}]
        rng.shuffle(order)
        patch = [{"name": "extra", "image": "alpine:3.20"}]
        return _nest(spec_path, {"$setElementOrder/containers": order, "containers": patch})
    return _nest(spec_path, {"containers": patch})


def _spec_patch(rng: random.Random, obj: dict) -> dict | None:
    if obj["kind"] not in ("Pod", "Deployment"):
        return None
    spec_path = _pod_spec_path(obj)
    choice = rng.randrange(14)
    if choice == 9:
        patch: dict = {"tolerations": [{"key": "k", "operator": "Exists", "value": None, "x": {"$patch": "delete"}}]}
    elif choice == 10:
        patch = {"overhead": {"$retainKeys": ["cpu"], "cpu": "1", "memory": None}}
    elif choice == 11:
        patch = {"containers": {"name": "not-a-list"}}
    elif choice == 12:
        patch = {"$setElementOrder/volumes": [{"name": "config"}, {"name": "data"}]}
    elif choice == 13:
        patch = {"volumes": [{"name": "data", "emptyDir": None, "hostPath": {"path": "/srv", "type": None}}]}
    elif choice == 0:
        patch = {"volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}]}
    elif choice == 1:
        patch = {"volumes": [{"name": "data", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/srv"}}]}
    elif choice == 2:
        patch = {"volumes": [{"name": "config", "$patch": "delete"}]}
    elif choice == 3:
        patch = {"tolerations": [{"key": "example.com/other", "operator": "Exists"}]}
    elif choice == 4:
        patch = {"nodeSelector": {"disk": None, "zone": "a"}}
    elif choice == 5:
        patch = {"nodeSelector": {"$patch": "replace", "zone": "b"}}
    elif choice == 6:
        patch = {"securityContext": {"runAsNonRoot": True}, "restartPolicy": None}
    elif choice == 7:
        patch = {"imagePullSecrets": [{"name": "other"}]}
    else:
        patch = {"initContainers": [{"name": "init", "$patch": "delete"}]}
    return _nest(spec_path, patch)


def _metadata_patch(rng: random.Random, obj: dict) -> dict:
    choice = rng.randrange(14)
    if choice == 8:
        return {"metadata": {"labels": {"$patch": "replace", "a": None, "b": {"$patch": "delete"}}}}
    if choice == 9:
        return {"metadata": {"$deleteFromPrimitiveList/finalizers": None}}
    if choice == 10:
        return {"metadata": {"$setElementOrder/finalizers": ["example.com/a"], "finalizers": None}}
    if choice == 11:
        return {"metadata": {"labels": ["not", "a", "map"]}}
    if choice == 12:
        return {"metadata": {"finalizers": [1, "example.com/a"]}}
    if choice == 13:
        return {"metadata": {"ownerReferences": [{"uid": "u1", "name": "o", "kind": "K", "apiVersion": "v1"}]}}
    if choice == 0:
        return {"metadata": {"labels": {"tier": "web", "app": None}}}
    if choice == 1:
        return {"metadata": {"labels": {"$patch": "replace", "only": "this"}}}
    if choice == 2:
        return {"metadata": {"annotations": {"note": None, "new": "1"}}}
    if choice == 3:
        return {"metadata": {"finalizers": ["example.com/c", "example.com/a"]}}
    if choice == 4:
        return {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a"]}}
    if choice == 5:
        return {"metadata": {"$setElementOrder/finalizers": ["example.com/b", "example.com/a"]}}
    if choice == 6:
        return {"metadata": {"annotations": {"$patch": "delete"}}}
    return {"metadata": {"labels": {"app.kubernetes.io/part-of": "store", "x": None}}}


def _kind_patch(rng: random.Random, obj: dict) -> dict | None:
    kind = obj["kind"]
    if kind == "Deployment":
        return rng.choice(
            [
                {"spec": {"replicas": rng.randint(0, 9)}},
                {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
                {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%"}}}},
                {"spec": {"strategy": {"rollingUpdate": None}}},
                {"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}},
            ]
        )
    if kind == "Service":
        ports = obj["spec"]["ports"]
        return rng.choice(
            [
                {"spec": {"ports": [{"port": ports[0]["port"], "targetPort": 9999}]}},
                {"spec": {"ports": [{"name": "grpc", "port": 50051, "protocol": "TCP"}]}},
                {"spec": {"ports": [{"port": ports[1]["port"], "$patch": "delete"}]}},
                {
                    "spec": {
                        "$setElementOrder/ports": [{"port": p["port"]} for p in reversed(ports)],
                        "ports": [{"port": ports[0]["port"], "name": "renamed"}],
                    }
                },
                {"spec": {"selector": {"app": None, "role": "api"}, "type": "NodePort"}},
                {"spec": {"ports": [{"name": "only", "port": 1}, {"$patch": "replace"}]}},
            ]
        )
    if kind == "ConfigMap":
        key = rng.choice(list(obj["data"]))
        return rng.choice(
            [
                {"data": {key: "changed", "new": "value"}},
                {"data": {key: None}},
                {"data": {"$patch": "replace", "fresh": "1"}},
                {"binaryData": {"blob": "aGVsbG8="}},
                {"data": None},
            ]
        )
    return None


def _invalid_strategic(rng: random.Random, obj: dict) -> dict:
    spec_path = _pod_spec_path(obj) if obj["kind"] in ("Pod", "Deployment") else ["spec"]
    return rng.choice(
        [
            _nest(spec_path, {"containers": [{"image": "no-name"}]}),
            {"metadata": {"labels": {"$patch": "explode"}}},
            _nest(spec_path, {"$setElementOrder/containers": "not-a-list"}),
            {"metadata": {"$retainKeys": "name"}},
            _nest(spec_path, {"containers": [{"name": "x", "$patch": "merge"}]}),
            {"metadata": {"finalizers": [{"a": 1}, "b"]}},
        ]
    )


def _order_dependent(patch: Any) -> bool:
    """A map with both `X` and `$deleteFromPrimitiveList/X`: upstream applies them in Go's
    random map order, so its result is not one result."""
    if isinstance(patch, dict):
        prefix = "$deleteFromPrimitiveList/"
        if any(key.startswith(prefix) and key.removeprefix(prefix) in patch for key in patch):
            return True
        return any(_order_dependent(value) for value in patch.values())
    return isinstance(patch, list) and any(_order_dependent(item) for item in patch)


def strategic_patch(rng: random.Random, obj: dict) -> dict:
    if rng.random() < 0.08:
        return _invalid_strategic(rng, obj)
    makers = [_containers_patch, _spec_patch, _kind_patch, lambda r, o: _metadata_patch(r, o)]
    patch: dict = {}
    for _ in range(rng.choice([1, 1, 2, 3])):
        part = rng.choice(makers)(rng, obj)
        if part and not _order_dependent(merged := _deep_merge(patch, part)):
            patch = merged
    return patch or _metadata_patch(rng, obj)


# --- JSON merge patches ---------------------------------------------------------------------------


def merge_patch(rng: random.Random, obj: dict) -> Any:
    if rng.random() < 0.05:
        return rng.choice([["not", "an", "object"], "text"])
    choice = rng.randrange(12)
    if choice == 9:
        return {"metadata": {"finalizers": [None, {"a": None}]}, "spec": None}
    if choice == 10:
        return {"metadata": {"labels": {"app": {"nested": None, "x": [None]}}}}
    if choice == 11:
        return {"metadata": {"name": None}} if rng.random() < 0.2 else {"apiVersion": "v1", "extra": 0}
    if choice == 0:
        return {"metadata": {"labels": {"tier": "web", "app": None}}}
    if choice == 1:
        return {"metadata": {"annotations": None, "finalizers": ["example.com/z"]}}
    if choice == 2:
        return {"metadata": {"annotations": {"nested": None, "kept": "1"}, "newMap": {"a": None, "b": {"c": None}}}}
    if choice == 3 and obj["kind"] in ("Pod", "Deployment"):
        spec_path = _pod_spec_path(obj)
        return _nest(spec_path, {"containers": [{"name": "only", "image": "alpine:3.20", "args": None}]})
    if choice == 4 and obj["kind"] == "ConfigMap":
        return {"data": {rng.choice(list(obj["data"])): None, "x": "y"}}
    if choice == 5:
        return {"spec": {"extra": {"list": [1, None, {"a": None}]}}}
    if choice == 6:
        return {"metadata": {"labels": {"$patch": "replace"}}}
    if choice == 7:
        return {}
    return {"metadata": {"labels": {f"k{rng.randint(0, 9)}": str(rng.randint(0, 9))}}}


# --- JSON patches ---------------------------------------------------------------------------------


def _pointer(*parts: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def json_patch(rng: random.Random, obj: dict) -> Any:
    if rng.random() < 0.05:
        return rng.choice([{"op": "add"}, [{"op": "frobnicate", "path": "/a"}], [{"path": "/metadata"}], [1]])
    labels = list(obj["metadata"]["labels"])
    operations: list[dict] = []
    for _ in range(rng.randint(1, 3)):
        choice = rng.randrange(22)
        if choice >= 14 and obj["kind"] in ("Pod", "Deployment"):
            containers = _pointer(*_pod_spec_path(obj), "containers")
        else:
            containers = ""
        if choice == 14 and containers:
            index = rng.choice(["-1", "+0", "-0", "-2", "-9", "1"])
            operations.append({"op": rng.choice(["remove", "replace", "add", "test"]), "path": f"{containers}/{index}"})
            continue
        if choice == 15 and containers:
            operations.append({"op": "move", "from": f"{containers}/0", "path": f"{containers}/-1"})
            continue
        if choice == 16:
            operations.append({"op": rng.choice(["add", "remove", "copy", "move"]), "path": "", "from": "/metadata"})
            continue
        if choice == 17:
            operations.append({"op": "replace", "path": "", "value": {**obj, "extra": {"a": 1}}})
            continue
        if choice == 18:
            operations.append({"op": "add", "path": "metadata/anywhere", "value": "top"})
            continue
        if choice == 19:
            operations.append({"op": "copy", "from": "/metadata/nothing", "path": "/metadata/copied"})
            continue
        if choice == 20:
            operations.append({"op": "add", "path": "/metadata/labels/tilde~0key", "value": "t"})
            continue
        if choice == 21:
            operations.append({"op": "test", "path": "", "value": obj})
            continue
        label = rng.choice(labels)
        if choice == 0:
            operations.append({"op": "replace", "path": _pointer("metadata", "labels", label), "value": "new"})
        elif choice == 1:
            operations.append({"op": "add", "path": _pointer("metadata", "labels", "added/with-slash"), "value": "1"})
        elif choice == 2:
            operations.append({"op": "remove", "path": _pointer("metadata", "labels", label)})
        elif choice == 3:
            operations.append({"op": "remove", "path": _pointer("metadata", "labels", "missing")})
        elif choice == 4:
            operations.append({"op": "test", "path": _pointer("metadata", "name"), "value": obj["metadata"]["name"]})
        elif choice == 5:
            operations.append({"op": "test", "path": _pointer("metadata", "name"), "value": "other"})
        elif choice == 6:
            operations.append(
                {"op": "copy", "from": _pointer("metadata", "labels"), "path": _pointer("metadata", "annotations")}
            )
        elif choice == 7:
            operations.append(
                {"op": "move", "from": _pointer("metadata", "labels", label), "path": _pointer("metadata", "moved")}
            )
        elif choice == 8:
            operations.append({"op": "replace", "path": _pointer("metadata", "missing"), "value": 1})
        elif choice == 9 and obj["kind"] in ("Pod", "Deployment"):
            path = [*_pod_spec_path(obj), "containers"]
            operations.append({"op": "add", "path": _pointer(*path, "-"), "value": {"name": "added", "image": "x"}})
        elif choice == 10 and obj["kind"] in ("Pod", "Deployment"):
            path = [*_pod_spec_path(obj), "containers"]
            index = rng.choice([0, 1, 5, "01", "x"])
            kind = rng.choice(["remove", "replace", "add"])
            operations.append({"op": kind, "path": _pointer(*path, index), "value": {}})
        elif choice == 11 and obj["kind"] == "Service":
            operations.append({"op": "replace", "path": "/spec/ports/0/port", "value": 8081})
        elif choice == 12:
            operations.append({"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}})
        else:
            operations.append({"op": "test", "path": "/metadata/labels/nothing"})
    return operations


# --- the corpus -----------------------------------------------------------------------------------


def corpus(seed: int = SEED, per_type: int = 140) -> list[Case]:
    """`per_type` cases of each patch type, over objects of every kind, the same on every run."""
    rng = random.Random(seed)  # noqa: S311 - seeded on purpose: the same cases on every run
    cases: list[Case] = []
    for patch_type, make in ((STRATEGIC, strategic_patch), (MERGE, merge_patch), (JSON, json_patch)):
        for index in range(per_type):
            maker = MAKERS[index % len(MAKERS)]
            obj = maker(rng, index)
            cases.append(Case(f"{patch_type}-{index:03d}-{obj['kind'].lower()}", obj, patch_type, make(rng, obj)))
    return cases
