"""ASGI entry point (uvicorn): watch streams and server-sent events need a server that streams,
and `kubectl exec` a WebSocket, which Django's own ASGI handler does not take."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")

django_application = get_asgi_application()

from clusters.kube.streams import websocket_application  # noqa: E402  (needs Django set up)
from tutor.lessons.loader import catalog  # noqa: E402

# Every lesson loaded and checked before the web serves: a broken lesson file stops it from
# starting (with the file and the problem), and no learner waits for the loading.
catalog()


async def application(scope, receive, send):
    if scope["type"] == "websocket":
        await websocket_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
