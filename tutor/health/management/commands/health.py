import json

from django.core.management.base import BaseCommand, CommandError

from tutor.health.services import health_report

PARTS = ("database", "broker", "worker", "runtime")


class Command(BaseCommand):
    help = "Print the health report that /healthz serves; with --require, fail unless those parts are ok."

    def add_arguments(self, parser):
        parser.add_argument("--require", nargs="*", choices=PARTS, default=[], help="parts that must be ok")

    def handle(self, *args, require: list[str], **options):
        report = health_report()
        self.stdout.write(json.dumps(report, indent=2))
        failing = [f"{part}={report[part]}" for part in require if report[part] != "ok"]
        if failing:
            raise CommandError(f"not healthy: {', '.join(failing)}")
