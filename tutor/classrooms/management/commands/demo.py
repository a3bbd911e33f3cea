from django.core.management.base import BaseCommand

from tutor.classrooms.demo import DEMO_JOIN_CODE, demo_accounts_ensure, demo_classroom_ensure


class Command(BaseCommand):
    help = (
        "Seed the demo class (an instructor and three learners, with sandboxes and some work done; "
        "only what is missing) and print how to log in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the site is served")

    def handle(self, *args, url: str, **options):
        results = demo_accounts_ensure()
        classroom, _ = demo_classroom_ensure()
        base = url.rstrip("/")
        self.stdout.write(f"Demo accounts (log in at {base}/accounts/login/):")
        for account, created in results:
            note = "created" if created else "exists"
            self.stdout.write(f"  {account.role:<10} {account.username:<12} password {account.password}  ({note})")
        self.stdout.write(
            f"Demo classroom {classroom.name!r}: {base}/classrooms/{classroom.pk}/ (as instructor);"
            f" learners join others with code {DEMO_JOIN_CODE}"
        )
