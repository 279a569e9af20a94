from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # The one engine-to-core hook: sla tells tickets about warnings and breaches.
        from sla.signals import clock_fired
        from tickets.sla_hooks import on_clock_fired

        clock_fired.connect(on_clock_fired, dispatch_uid="tickets.sla_hooks.on_clock_fired")
