from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and quality")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What feedback shows on the core's pages (tickets.hooks).
        from feedback.panels import complaint_panel, quality_panel
        from feedback.services.complaints import complaint_close_guard, complaint_on_ticket_opened
        from tickets import hooks

        # A ticket's quality reviews, for supervisors and the reviewed agent only.
        hooks.ticket_panel_register("feedback.quality", quality_panel)
        # Complaints: the card (flag, review, suggestion), an owner for a complaint triage
        # recognised, and no resolving or closing a complaint without its review.
        hooks.ticket_panel_register("feedback.complaint", complaint_panel)
        hooks.ticket_opened_register("feedback.complaint", complaint_on_ticket_opened)
        hooks.close_guard_register("feedback.complaint_review", complaint_close_guard)
        # A customer's suggestions and their complaints' reviews, in export and erasure.
        from feedback import complaints_privacy
        from tickets.personal_data import personal_data_register

        personal_data_register(complaints_privacy.source)
