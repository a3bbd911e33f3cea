"""Who may use a sandbox's API: its owner (and superusers), proven by a token or a session.

kubectl sends no credentials over plain http, so a kubeconfig for an http server carries the
token in the server URL (`…/k8s/<sandbox>/t/<token>`); over https the same token travels as a
bearer token in the Authorization header. A browser session of the owner works too.

The public paths (`/version`, `/healthz`, `/livez`, `/readyz`) answer anyone, as the default
`system:public-info-viewer` role lets them on a real cluster; credentials that are sent must still
be good there (a bad token is a 401, never taken for anonymous, as upstream's authenticator does).
Every other request is use of the sandbox (clusters.idle): it brings a paused one back.
"""

from __future__ import annotations

import uuid

from django.db.models import F, Subquery

from clusters import errors, idle
from clusters.models import AccessToken, Sandbox


def user_for_token(key: str):
    token = AccessToken.objects.select_related("user").filter(key_hash=AccessToken.hash_key(key)).first()
    if token is None or not token.user.is_active:
        raise errors.Unauthorized("Unauthorized")
    return token.user


def sandbox_for_request(
    *, sandbox_uid: str, path_token: str | None, authorization: str, user, public: bool = False
) -> Sandbox:
    scheme, _, credential = authorization.partition(" ")
    key = path_token or (credential.strip() if scheme.lower() == "bearer" else "")
    if not key and not public and (user is None or not user.is_authenticated):
        raise errors.Unauthorized("Unauthorized")
    # Every kubectl call comes here: one query reads the sandbox, its owner, its activity (for
    # idle.sandbox_seen) and whose the token is, where four would cost a millisecond each.
    rows = Sandbox.objects.select_related("owner").annotate(
        active_at=F("activity__last_active_at"), paused_at=F("activity__paused_at")
    )
    if key:
        owner_of_token = AccessToken.objects.filter(key_hash=AccessToken.hash_key(key)).values("user_id")[:1]
        rows = rows.annotate(token_user_id=Subquery(owner_of_token))
    try:
        sandbox = rows.filter(uid=uuid.UUID(sandbox_uid)).first()
    except ValueError:
        sandbox = None
    if key:
        user = _token_user(key, sandbox)  # a bad token is a 401 before any 404, as upstream's
    if sandbox is None:
        raise errors.NotFound(f'sandbox "{sandbox_uid}" not found')
    if not public and sandbox.owner_id != user.pk and not user.is_superuser:
        raise errors.Forbidden(f'User "{user.get_username()}" cannot access sandbox "{sandbox.name}" of another user')
    if not public:
        # A paused sandbox starts again; the request goes on meanwhile.
        seen = (sandbox.active_at, sandbox.paused_at) if sandbox.active_at is not None else None
        idle.sandbox_seen_as_read(sandbox=sandbox, seen=seen)
    return sandbox


def _token_user(key: str, sandbox: Sandbox | None):
    """Whose the token is: the sandbox's owner, as read with it; anyone else (a superuser, or a
    token for no sandbox found) is looked up on their own."""
    if sandbox is not None and sandbox.token_user_id == sandbox.owner_id:
        if not sandbox.owner.is_active:
            raise errors.Unauthorized("Unauthorized")
        return sandbox.owner
    return user_for_token(key)
