from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("After-sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What after-sales shows on the core's pages and hears from it (tickets.hooks,
        # tickets.signals); each part registers itself here.
        from aftersales.services.notices import on_ticket_event
        from tickets.signals import ticket_event_recorded

        # Customer notices: a case's step or a ticket change queues one in its transaction.
        ticket_event_recorded.connect(on_ticket_event, dispatch_uid="aftersales_notices")
