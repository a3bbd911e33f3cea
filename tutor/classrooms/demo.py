"""Demo accounts for a local class: one instructor and a few learners, with known passwords."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, User

INSTRUCTORS_GROUP = "instructors"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


DEMO_ACCOUNTS = (
    DemoAccount("instructor", "instructor-demo", "instructor"),
    DemoAccount("learner1", "learner-demo", "learner"),
    DemoAccount("learner2", "learner-demo", "learner"),
    DemoAccount("learner3", "learner-demo", "learner"),
)


def demo_accounts_ensure() -> list[tuple[DemoAccount, bool]]:
    """Create the demo accounts that are missing; leave existing ones (and their passwords) alone."""
    instructors, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    results = []
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=account.username)
        if created:
            user.set_password(account.password)
            user.save(update_fields=["password"])
        if account.role == "instructor":
            user.groups.add(instructors)
        results.append((account, created))
    return results
