from django.core.management.base import BaseCommand

from tutor.classrooms.demo import demo_accounts_ensure


class Command(BaseCommand):
    help = "Create the demo instructor and learner accounts (only the missing ones) and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the site is served")

    def handle(self, *args, url: str, **options):
        results = demo_accounts_ensure()
        self.stdout.write(f"Demo accounts (log in at {url.rstrip('/')}/accounts/login/):")
        for account, created in results:
            note = "created" if created else "exists"
            self.stdout.write(f"  {account.role:<10} {account.username:<12} password {account.password}  ({note})")
