from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("After-sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What after-sales shows on the core's pages and hears from it (tickets.hooks,
        # tickets.signals, sla.signals).
        from aftersales import order_panel, order_receivers, order_timeline
        from aftersales.logistics_panel import logistics_panel
        from aftersales.panels import ticket_cases_panel
        from aftersales.portal import portal_section
        from aftersales.search import order_search
        from aftersales.selectors import ticket_order_number, tickets_order_numbers
        from aftersales.services import history, notices
        from aftersales.services.clocks import on_clock_fired
        from sla.signals import clock_fired
        from tickets import hooks
        from tickets.models import EventKind
        from tickets.signals import ticket_event_recorded, ticket_events_recorded

        # Cards on the ticket page, in this order: the order, its cases, a parcel's anomaly.
        hooks.ticket_panel_register("orders", order_panel.order_panel)
        hooks.ticket_panel_register("cases", ticket_cases_panel)
        hooks.ticket_panel_register("aftersales.logistics", logistics_panel)
        # The ticket's order in the core's macros ({order_number}).
        hooks.ticket_order_number_register(
            "aftersales.order", ticket_order_number, batch=tickets_order_numbers
        )
        # Orders and cases on the customer's self-service home.
        hooks.portal_section_register("aftersales", portal_section)
        # Purchases and parcels on the customer's timeline.
        hooks.timeline_source_register("orders", order_timeline.orders_placed)
        hooks.timeline_source_register("shipments", order_timeline.shipment_milestones)
        # A customer merge takes the orders along (and an undo brings them back).
        hooks.customer_merge_part_register(
            "orders",
            hooks.CustomerMergePart(
                move=order_receivers.orders_move, move_back=order_receivers.orders_move_back
            ),
        )
        # Order and case numbers typed into the header's search box.
        hooks.search_source_register("orders", order_search)
        # A case's step on the ticket's timeline, in the reader's language.
        hooks.trail_label_register("aftersales.steps", history.TRAIL_KIND, history.trail_label)
        # The notices it sent, named in the reader's language.
        hooks.trail_label_register("aftersales.notices", EventKind.NOTICE, notices.trail_label)
        # A customer message naming an order links the ticket to it.
        ticket_event_recorded.connect(
            order_receivers.on_ticket_event, dispatch_uid="aftersales.orders.ticket_event"
        )
        # Customer notices: a case's step or a ticket change queues one in its transaction.
        ticket_event_recorded.connect(notices.on_ticket_event, dispatch_uid="aftersales_notices")
        ticket_events_recorded.connect(
            notices.on_ticket_events, dispatch_uid="aftersales_notices_batch"
        )
        # Each process keeps the notice templates; a change reaches every process within
        # seconds (kefu.revisions).
        from django.db.models.signals import post_delete, post_save

        from aftersales.notice_models import NoticeTemplate

        for signal in (post_save, post_delete):
            signal.connect(
                _templates_changed, sender=NoticeTemplate, dispatch_uid="notice_templates"
            )
        # Warnings and breaches of case step clocks (the core's receiver skips them).
        clock_fired.connect(on_clock_fired, dispatch_uid="aftersales_case_clock_fired")


def _templates_changed(**_kwargs: Any) -> None:
    from aftersales.services.notices import TEMPLATES_REVISION
    from kefu.revisions import revision_bump

    revision_bump(key=TEMPLATES_REVISION)
