from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("After-sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What after-sales shows on the core's pages and hears from it (tickets.hooks,
        # tickets.signals); each part registers itself here.
        from aftersales.panels import ticket_cases_panel
        from aftersales.services.clocks import on_clock_fired
        from sla.signals import clock_fired
        from tickets.hooks import ticket_panel_register

        # Warnings and breaches of case step clocks (the core's receiver skips them).
        clock_fired.connect(on_clock_fired, dispatch_uid="aftersales_case_clock_fired")
        ticket_panel_register("cases", ticket_cases_panel)
