"""Accounts: sign up, and a guest mode to try the tutor first.

A guest is an ordinary user in the `guests` group with an unusable password, so everything a
learner owns (sandboxes, progress, console history) hangs off the same user row. Signing up as a
guest turns that very user into a named one: nothing is copied, nothing is lost.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.models import Group, User
from django.db import transaction

GUESTS_GROUP = "guests"


def is_guest(user) -> bool:
    return user.is_authenticated and user.groups.filter(name=GUESTS_GROUP).exists()


def guest_create() -> User:
    guests, _ = Group.objects.get_or_create(name=GUESTS_GROUP)
    with transaction.atomic():
        user = User.objects.create(username=f"guest-{secrets.token_hex(4)}")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(guests)
    return user


def account_claim(*, user: User, username: str, password: str) -> User:
    """Turn a guest into a named account, keeping every sandbox and all progress."""
    with transaction.atomic():
        user.username = username
        user.set_password(password)
        user.save(update_fields=["username", "password"])
        user.groups.remove(*Group.objects.filter(name=GUESTS_GROUP))
    return user
