"""Websocket routes of every app, gathered in one list for the ASGI router."""

from django.urls import path

from analytics.consumers import BoardConsumer
from channels_ingest.chat.consumers import ChatConsumer
from tickets.consumers import AgentConsumer

# Staff sockets: session authentication, and only pages of Kefu's own hosts may open them.
websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/board/", BoardConsumer.as_asgi()),
]

# Public sockets opened from other sites' pages: no session, each consumer checks the page's
# origin against its own configuration (the chat widget: the chat site's allowed origins).
public_websocket_urlpatterns = [
    path("ws/chat/<str:site_key>/", ChatConsumer.as_asgi()),
]
