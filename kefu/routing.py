"""Websocket routes of every app, gathered in one list for the ASGI router."""

from django.urls import path

from analytics.consumers import BoardConsumer
from tickets.consumers import AgentConsumer

websocket_urlpatterns = [
    path("ws/agent/", AgentConsumer.as_asgi()),
    path("ws/board/", BoardConsumer.as_asgi()),
]
