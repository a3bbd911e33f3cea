"""Sandboxes and the objects stored in them.

Every Kubernetes object of every sandbox is one row of StoredObject (its whole JSON body, plus
the columns the store looks things up by). Every write also appends a Change, the log that
watches read from; both carry the same resourceVersion, taken from one global counter whose row
lock is held until the write commits, so the log's order is the commit order.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
import zlib

import orjson
from django.conf import settings
from django.db import models
from django.utils import timezone
from psycopg.types.json import Jsonb

RUNTIME_CHOICES = [("auto", "auto"), ("docker", "Docker"), ("simulated", "simulated")]


def json_bytes(value) -> bytes:
    """`value` as JSON, by orjson (ten times json's speed on an object's body)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson's refusals (an integer past 64 bits, a key not a string): json takes them
        return json.dumps(value).encode()


def json_loads(text: str | bytes):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses and json reads (an integer past 64 bits)
        return json.loads(text)


class BodyField(models.JSONField):
    """An object's JSON body, the bulk of what goes to and from the database.

    Bodies are encoded and decoded with orjson: reading a pod's body takes 15 µs instead of 33,
    writing one 3 µs instead of 30, on every listing, controllers' state, status write and
    change-log read. Bulk inserts bind each body as its own parameter: for several rows Django's
    PostgreSQL backend otherwise sends a column as one array (INSERT … SELECT * FROM UNNEST),
    whose text form escapes every quote of every body once more, in Python — about six times the
    cost of binding the same bodies one by one, and the largest single cost of a controller's
    fan-out."""

    def get_placeholder_sql(self, value, compiler, connection):
        if hasattr(value, "as_sql"):  # an expression: bulk_update's CASE of bodies
            return compiler.compile(value)
        return "%s", [value]

    def get_db_prep_value(self, value, connection, prepared=False):
        if not prepared:
            value = self.get_prep_value(value)
        if connection.vendor == "postgresql":
            return Jsonb(value, dumps=json_bytes)
        return json_bytes(value).decode()

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str):
            try:
                return json_loads(value)
            except ValueError:  # not JSON: what a key lookup gives on SQLite, kept as it is
                return value
        return super().from_db_value(value, expression, connection)

    def deconstruct(self):
        # The column is a JSONField's: migrations (and SQLite's table rebuilds) have nothing to do.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


class CompressedJSONField(models.BinaryField):
    """JSON kept as zlib-compressed bytes, for a large document read and written whole and never
    queried into. A node's simulated runtime is about 2 KB a container (94 KB for 50 pods):
    PostgreSQL parses that into jsonb at every write and psycopg decodes it at every read (3 ms to
    load and 5 ms to save at 50 pods, at every kubelet run); compressed it is a twelfth of the size
    and costs well under a millisecond either way."""

    def get_prep_value(self, value):
        return None if value is None else zlib.compress(json_bytes(value), 1)

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if isinstance(value, bytes | memoryview):
            return json_loads(zlib.decompress(bytes(value)))
        return value


class Sandbox(models.Model):
    """One learner-owned cluster: its own namespaces, nodes and objects."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sandboxes")
    name = models.SlugField(max_length=63)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    runtime = models.CharField(max_length=16, choices=RUNTIME_CHOICES, default="auto")
    # What `runtime` resolved to when the sandbox was made ("auto" looks for a Docker engine once).
    engine = models.CharField(
        max_length=16, choices=[("docker", "Docker"), ("simulated", "simulated")], default="simulated"
    )
    # Class time: crash loops and image pulls back off from 1 s to 60 s instead of 10 s to 5 min.
    fast_backoff = models.BooleanField(default=False)
    # On Docker, the sandbox network's subnet (clusters.sandbox_network): pods take addresses from
    # its lower half, Services their ClusterIPs from its upper half. None on the simulated runtime.
    network = models.CharField(max_length=18, null=True, blank=True, unique=True)
    # The Pod Security level (privileged, baseline, restricted) its namespaces are labelled to
    # enforce when made without one; an instructor may change it for a class's sandboxes.
    pod_security_level = models.CharField(
        max_length=16,
        choices=[("privileged", "privileged"), ("baseline", "baseline"), ("restricted", "restricted")],
        default="baseline",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="sandbox_unique_name_per_owner")]
        ordering = ["owner_id", "name"]

    def __str__(self) -> str:
        return f"{self.owner} / {self.name}"


class AccessToken(models.Model):
    """A credential for the Kubernetes API, like a ServiceAccount token: only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token of {self.user} ({self.description or 'no description'})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, description: str = "") -> tuple[AccessToken, str]:
        """Create a token and return it with its plain key, which is shown once and never stored."""
        key = "kt_" + secrets.token_urlsafe(32)
        return cls.objects.create(user=user, key_hash=cls.hash_key(key), description=description), key


class ResourceVersionCounter(models.Model):
    """The single row holding the last resourceVersion given out, and how far the log is compacted."""

    value = models.BigIntegerField(default=0)
    compacted_through = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"resourceVersion {self.value} (log compacted through {self.compacted_through})"


class StoredObject(models.Model):
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="stored_objects")
    api_group = models.CharField(max_length=253, blank=True)
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True)  # "" for cluster-scoped kinds
    name = models.CharField(max_length=253)
    uid = models.UUIDField()
    resource_version = models.BigIntegerField()
    body = BodyField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sandbox", "api_group", "kind", "namespace", "name"], name="object_unique_name"
            )
        ]
        indexes = [models.Index(fields=["sandbox", "api_group", "kind", "namespace"], name="object_by_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


class Change(models.Model):
    """One entry of the change log: what an object became (or was, when deleted) at a version."""

    ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
    TYPES = [(ADDED, ADDED), (MODIFIED, MODIFIED), (DELETED, DELETED)]

    resource_version = models.BigIntegerField(unique=True)
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="changes")
    api_group = models.CharField(max_length=253, blank=True)
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    type = models.CharField(max_length=8, choices=TYPES)
    body = BodyField()
    # Who wrote it ("kubectl apply", "page: apply", "replicaset-controller", "kubelet/node-2", …)
    # and why, when the writer said (a planner's decision): the sandbox timeline shows both.
    actor = models.CharField(max_length=100, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["sandbox", "resource_version"], name="change_by_sandbox")]

    def __str__(self) -> str:
        return f"{self.resource_version} {self.type} {self.kind} {self.namespace}/{self.name}"


class ContainerLog(models.Model):
    """One line a container wrote, as the runtime read it; `kubectl logs` reads these."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="log_lines")
    pod_uid = models.UUIDField()
    container = models.CharField(max_length=63)
    restart = models.PositiveIntegerField(default=0, help_text="which run of the container (its restartCount)")
    time = models.DateTimeField()
    line = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["pod_uid", "container", "restart", "id"], name="log_by_container")]

    def __str__(self) -> str:
        return f"{self.container}#{self.restart}: {self.line[:40]}"


class WorkItem(models.Model):
    """One key of the orchestrator's work queue: a sandbox's controllers, or one node's kubelet.

    The database row, not the broker message, is what says work is due: `dirty` (as soon as
    possible) or `wake_at` (at that moment). A task leases the row while it runs, so one key is
    never reconciled twice at once, and a lost task or a dead worker only delays the work until
    the lease runs out and the periodic resync sends the key again."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="work_items")
    key = models.CharField(max_length=100)  # "controllers" or "kubelet/<node>"
    dirty = models.BooleanField(default=True)
    # When it last turned dirty: how long due work has waited (clusters.monitoring).
    dirty_since = models.DateTimeField(null=True, blank=True, default=timezone.now)
    wake_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The moment the last delayed message was sent for: another for the same moment would be a no-op.
    wake_sent_for = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sandbox", "key"], name="work_item_unique_key")]

    def __str__(self) -> str:
        return f"{self.sandbox_id}:{self.key}"


class NodeRuntimeState(models.Model):
    """One node's kubelet between runs: its memory (`state`), the simulated runtime's state
    (`runtime`), and its lease.

    The lease is upstream's node Lease (kube-node-lease) in table form: renewed every
    NODE_HEARTBEAT_SECONDS by whatever serves the node's queue, it is how the node lifecycle
    controller knows the kubelet lives, so the Node object itself is written only when its status
    changes or every NODE_STATUS_REPORT_SECONDS, as upstream's kubelet does.

    Two faults a learner can cause (clusters.faults) are kept here too, apart from `state`, which
    only the kubelet run holding the node's work lease writes: `kubelet_stopped` (its runs do
    nothing and its lease is not renewed, as when a node's kubelet dies) and `container_kills`,
    the kills asked for and not yet done, which the kubelet performs at the start of its next run."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="runtime_states")
    node = models.CharField(max_length=253)
    state = models.JSONField(default=dict)
    runtime = CompressedJSONField(null=True, blank=True)  # None on Docker: the engine holds the containers
    lease_renewed_at = models.DateTimeField(null=True, blank=True)
    kubelet_stopped = models.BooleanField(default=False)
    # [{"id", "namespace", "pod", "uid", "container", "container_id", "requested_at"}, …]
    container_kills = models.JSONField(default=list, blank=True)
    # What the node's containers used, as its kubelet last sampled it (clusters.usage_samples),
    # written with `state`; and until when someone reading metrics (clusters.metrics) wants a
    # sample every resolution, written by the readers.
    usage = models.JSONField(default=dict, blank=True)
    usage_wanted_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sandbox", "node"], name="runtime_state_unique_node")]

    def __str__(self) -> str:
        return f"runtime state of {self.node} in sandbox {self.sandbox_id}"


class SandboxActivity(models.Model):
    """When a sandbox was last used, and whether it is paused for being idle (clusters.idle).

    A row of its own, so the activity write (at most one a minute) never locks the Sandbox row.
    A sandbox without a row counts as last used when it was made."""

    sandbox = models.OneToOneField(Sandbox, on_delete=models.CASCADE, primary_key=True, related_name="activity")
    last_active_at = models.DateTimeField()
    # Set while paused: the kubelets have stopped (or will stop) every container it ran.
    paused_at = models.DateTimeField(null=True, blank=True)
    # How long it had been idle when it was paused, in whole minutes (what its page says), and when
    # it was last brought back.
    idle_minutes = models.PositiveIntegerField(default=0)
    resumed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = f"paused since {self.paused_at:%Y-%m-%d %H:%M}" if self.paused_at else "running"
        return f"sandbox {self.sandbox_id}: {state}, last active {self.last_active_at:%Y-%m-%d %H:%M}"
