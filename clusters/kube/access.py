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
    if key:
        user = user_for_token(key)
    elif not public and (user is None or not user.is_authenticated):
        raise errors.Unauthorized("Unauthorized")
    try:
        sandbox = Sandbox.objects.select_related("owner").filter(uid=uuid.UUID(sandbox_uid)).first()
    except ValueError:
        sandbox = None
    if sandbox is None:
        raise errors.NotFound(f'sandbox "{sandbox_uid}" not found')
    if not public and sandbox.owner_id != user.pk and not user.is_superuser:
        raise errors.Forbidden(f'User "{user.get_username()}" cannot access sandbox "{sandbox.name}" of another user')
    if not public:
        idle.sandbox_seen(sandbox=sandbox)  # a paused sandbox starts again; the request goes on meanwhile
    return sandbox
