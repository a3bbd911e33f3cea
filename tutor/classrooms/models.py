"""Classrooms: an instructor's class, the learners enrolled in it, and what the instructor sends them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clusters.models import Sandbox


class Classroom(models.Model):
    """One class. Learners join with `join_code`; each gets a sandbox of the class, limited by
    the class's quota (applied to it as a ResourceQuota and a LimitRange, as Kubernetes does)."""

    name = models.CharField(max_length=100)
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="classrooms_taught")
    join_code = models.CharField(max_length=12, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The quota of each learner's sandbox: counts and Kubernetes quantities.
    max_pods = models.PositiveIntegerField(default=20)
    max_services = models.PositiveIntegerField(default=10)
    max_claims = models.PositiveIntegerField(default=5)
    cpu = models.CharField(max_length=16, default="4")
    memory = models.CharField(max_length=16, default="4Gi")
    # A step whose check has failed this long (on the learner's current step) counts as stuck.
    stuck_minutes = models.PositiveIntegerField(default=5)
    locked_lessons = models.JSONField(default=list, blank=True)  # lesson slugs learners cannot open
    # The Pod Security Standard the namespaces of the learners' sandboxes enforce.
    pod_security_level = models.CharField(
        max_length=16,
        default="baseline",
        choices=[
            ("privileged", _("privileged: no restriction (host paths, host network, privileged containers)")),
            ("baseline", _("baseline: no privileged containers, host namespaces, hostPath or hostPort")),
            ("restricted", _("restricted: baseline, and non-root, no privilege escalation, capabilities dropped")),
        ],
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    """A learner in a classroom, with the sandbox the class gave them."""

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="enrollments")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    sandbox = models.ForeignKey(Sandbox, on_delete=models.SET_NULL, null=True, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classroom", "learner"], name="enrollment_unique_learner")]
        ordering = ["joined_at"]

    def __str__(self) -> str:
        return f"{self.learner} in {self.classroom}"


class Message(models.Model):
    """A hint or a message from the instructor to one learner, shown live on the learner's pages."""

    HINT, NOTE = "hint", "message"

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="messages")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="classroom_messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=[(HINT, "hint"), (NOTE, "message")], default=NOTE)
    text = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["learner", "-id"], name="messages_by_learner")]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"to {self.learner}: {self.text[:40]}"
