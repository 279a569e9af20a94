"""Kefu: the Django project (settings, routing, the Celery app and the realtime door)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
