from collections.abc import Callable
from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # The signed-in user's agent is read once per request (tickets.selectors.agent_for).
        from django.core.signals import request_finished, request_started

        from tickets.selectors import request_cache_end, request_cache_start

        request_started.connect(request_cache_start, dispatch_uid="tickets.request_cache_start")
        request_finished.connect(request_cache_end, dispatch_uid="tickets.request_cache_end")

        # The one engine-to-core hook: sla tells tickets about warnings and breaches.
        from sla.signals import clock_fired
        from tickets.api import schema  # noqa: F401  (registers the token's OpenAPI scheme)
        from tickets.services.escalation import on_clock_fired

        clock_fired.connect(
            on_clock_fired, dispatch_uid="tickets.services.escalation.on_clock_fired"
        )

        # What SLA policy conditions may name, for the policy editor and list (sla.conditions).
        from tickets.sla_conditions import sla_conditions_register

        sla_conditions_register()

        # The core's retention periods (tickets.personal_data; apps above add theirs).
        from tickets.services.retention import retention_register_core

        retention_register_core()

        # Per-process caches of rarely changed rows follow revisions (kefu.revisions);
        # any save or delete of those rows moves them.
        from django.db.models.signals import post_delete, post_save

        from tickets.models import ChannelCapacity, IntegrationToken, RoutingRule, Skill, Team

        cached = (
            (Team, "routing"),
            (RoutingRule, "routing"),
            (IntegrationToken, "tokens"),
            (Skill, "assignment"),
            (ChannelCapacity, "assignment"),
        )
        for model, key in cached:
            for signal in (post_save, post_delete):
                signal.connect(
                    _bump(key), sender=model, weak=False, dispatch_uid=f"{model.__name__}.{key}"
                )


def _bump(key: str) -> Callable[..., None]:
    def receiver(**_: Any) -> None:
        from kefu.revisions import revision_bump

        revision_bump(key=key)

    return receiver
