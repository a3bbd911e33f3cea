"""What learners typed in their sandbox's console: their history, and the instructor's view of it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from clusters.models import Sandbox


class ConsoleCommand(models.Model):
    """One command line typed in a sandbox's console, refused or run, with how it ended."""

    REFUSED, RUNNING, EXITED, TIMEOUT, OUTPUT_LIMIT, CANCELLED = (
        "refused",
        "running",
        "exit",
        "timeout",
        "output limit",
        "cancelled",
    )

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="console_commands")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_commands")
    line = models.CharField(max_length=2000)
    argv = models.JSONField(default=list)
    stdin = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ended = models.CharField(max_length=16, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    output = models.TextField(blank=True)  # what the page showed, the first OUTPUT_KEPT characters

    OUTPUT_KEPT = 65536

    class Meta:
        indexes = [models.Index(fields=["sandbox", "-created_at"], name="console_by_sandbox")]

    def __str__(self) -> str:
        return f"{self.sandbox_id}: {self.line[:60]}"
