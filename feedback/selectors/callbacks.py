"""Reads of call-backs: the queue a user may see (supervisors every task, an agent the
tasks given to them), one task, and a ticket's tasks."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from feedback.models import Callback, CallbackAttempt
from kefu.roles import Role, has_role
from tickets.models import Ticket


def callbacks_visible_to(user: Any) -> QuerySet[Callback]:
    callbacks = Callback.objects.all()
    if not has_role(user, Role.SUPERVISOR):
        callbacks = callbacks.filter(owner__user_id=user.pk or 0)
    return callbacks


def callback_queue(*, user: Any, state: str = "open", mine: bool = False) -> QuerySet[Callback]:
    """The tasks the user may see, open ones due first (or done ones, latest first)."""
    callbacks = callbacks_visible_to(user).select_related(
        "ticket", "customer", "owner__user", "team"
    )
    if mine:
        callbacks = callbacks.filter(owner__user_id=user.pk)
    if state == "done":
        return callbacks.filter(closed_at__isnull=False).order_by("-closed_at", "-pk")
    return callbacks.filter(closed_at__isnull=True).order_by("due_at", "pk")


def callback_for(*, user: Any, pk: int) -> Callback | None:
    return (
        callbacks_visible_to(user)
        .select_related("ticket", "customer", "owner__user", "team", "survey")
        .prefetch_related(
            Prefetch(
                "attempts",
                queryset=CallbackAttempt.objects.select_related("agent__user").order_by("at", "pk"),
            )
        )
        .filter(pk=pk)
        .first()
    )


def ticket_callbacks(*, ticket: Ticket, user: Any) -> list[Callback]:
    """The ticket's tasks the user may see: supervisors all, an agent their own."""
    return list(
        callbacks_visible_to(user)
        .filter(ticket=ticket)
        .prefetch_related("owner__user")
        .order_by("-created_at", "-pk")
    )
