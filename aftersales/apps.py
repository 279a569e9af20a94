from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("After-sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What after-sales shows on the core's pages and hears from it (tickets.hooks,
        # tickets.signals); each part registers itself here.
        from aftersales.portal import portal_section
        from tickets.hooks import portal_section_register

        portal_section_register("aftersales", portal_section)
        from aftersales import order_panel, order_receivers, order_timeline
        from tickets import hooks
        from tickets.signals import ticket_event_recorded

        hooks.ticket_panel_register("orders", order_panel.order_panel)
        hooks.timeline_source_register("orders", order_timeline.orders_placed)
        hooks.timeline_source_register("shipments", order_timeline.shipment_milestones)
        ticket_event_recorded.connect(
            order_receivers.on_ticket_event, dispatch_uid="aftersales.orders.ticket_event"
        )
        from aftersales.panels import ticket_cases_panel
        from aftersales.services.clocks import on_clock_fired
        from sla.signals import clock_fired
        from tickets.hooks import ticket_panel_register

        # Warnings and breaches of case step clocks (the core's receiver skips them).
        clock_fired.connect(on_clock_fired, dispatch_uid="aftersales_case_clock_fired")
        ticket_panel_register("cases", ticket_cases_panel)
        from aftersales.logistics_panel import logistics_panel
        from tickets.hooks import ticket_panel_register

        ticket_panel_register("aftersales.logistics", logistics_panel)
