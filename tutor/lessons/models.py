"""A learner's progress through lessons: one row per step they have reached."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class StepProgress(models.Model):
    """Where one learner stands on one step of one lesson.

    `passed_at` is set the first time the step's check passes and never cleared: progress is
    never lost. `failing_since` and `last_message` say how long the check has been failing and
    why, for the instructor's "stuck" view."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="step_progress")
    lesson = models.SlugField(max_length=64)
    step = models.SlugField(max_length=64)
    prediction = models.CharField(max_length=64, blank=True)
    predicted_at = models.DateTimeField(null=True, blank=True)
    hints_shown = models.PositiveSmallIntegerField(default=0)
    passed_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_message = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson", "step"], name="progress_unique_step")]
        indexes = [models.Index(fields=["user", "lesson"], name="progress_by_lesson")]

    def __str__(self) -> str:
        return f"{self.user} {self.lesson}/{self.step}{' passed' if self.passed_at else ''}"
