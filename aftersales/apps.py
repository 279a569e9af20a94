from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("After-sales")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What after-sales shows on the core's pages and hears from it (tickets.hooks,
        # tickets.signals); each part registers itself here.
        from aftersales.logistics_panel import logistics_panel
        from tickets.hooks import ticket_panel_register

        ticket_panel_register("aftersales.logistics", logistics_panel)
