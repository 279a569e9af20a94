from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and quality")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What feedback shows on the core's pages (tickets.hooks).
        from feedback.panels import quality_panel
        from tickets import hooks

        # A ticket's quality reviews, for supervisors and the reviewed agent only.
        hooks.ticket_panel_register("feedback.quality", quality_panel)
