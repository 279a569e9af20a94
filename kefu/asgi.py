"""ASGI entry point: HTTP and websockets (daphne in embedded mode, websockets in production)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")

# Django must be set up before the consumers (and their models) are imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from kefu.heap import heap_freeze  # noqa: E402
from kefu.routing import public_websocket_urlpatterns, websocket_urlpatterns  # noqa: E402


def build_application(http_app=None) -> ProtocolTypeRouter:  # type: ignore[no-untyped-def]
    """The HTTP + websocket router. Tests build a fresh one after changing settings, since
    Django's HTTP handler reads its middleware settings once, when it is made."""
    return ProtocolTypeRouter(
        {
            "http": http_app or get_asgi_application(),
            # Public routes first, without the host check (their pages live on other
            # sites); everything else is a staff socket on Kefu's own hosts.
            "websocket": URLRouter(
                [
                    *public_websocket_urlpatterns,
                    re_path(
                        r"^",
                        AllowedHostsOriginValidator(
                            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
                        ),
                    ),
                ]
            ),
        }
    )


application = build_application(django_asgi_app)
heap_freeze()  # last: what is loaded by now lives as long as the process
