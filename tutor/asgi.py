"""ASGI entry point (uvicorn): watch streams and server-sent events need a server that streams."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")

application = get_asgi_application()
