import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tutor.health.models import WorkerHeartbeat
from tutor.health.tasks import heartbeat


class Command(BaseCommand):
    help = (
        "Send a heartbeat task through the broker and wait until a worker has recorded it in the "
        "database. Prints the round trip; fails when no worker answers in time."
    )

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (default 30)")

    def handle(self, *args, timeout: float, **options):
        sent_at = timezone.now()
        started = time.monotonic()
        heartbeat.delay(sent_at=sent_at.isoformat())
        while time.monotonic() - started < timeout:
            beat = WorkerHeartbeat.objects.filter(sent_at=sent_at).first()
            if beat:
                elapsed_ms = (time.monotonic() - started) * 1000
                self.stdout.write(f"pong from {beat.worker} in {elapsed_ms:.1f} ms")
                return
            time.sleep(0.01)
        raise CommandError(f"no worker recorded the heartbeat within {timeout:g} s")
