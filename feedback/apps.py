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
        self._surveys_ready()

    def _surveys_ready(self) -> None:
        # Surveys and call-backs (docs/feedback.md): the ticket page's card, the timeline,
        # a resolution owing a survey, an SMS digit answering one, and the quality sample's
        # "CSAT 1–2" source.
        from feedback import survey_panels
        from feedback.models import SampleReason
        from feedback.services import surveys
        from feedback.services.sampling import sample_source_register
        from tickets import hooks
        from tickets.signals import ticket_event_recorded

        hooks.ticket_panel_register("feedback.surveys", survey_panels.survey_panel)
        hooks.timeline_source_register("feedback.answers", survey_panels.survey_answers)
        hooks.timeline_source_register("feedback.callbacks", survey_panels.callbacks_made)
        hooks.timeline_source_register("feedback.attempts", survey_panels.callback_attempts)
        hooks.inbound_interceptor_register("feedback.sms_survey", surveys.sms_reply_intercept)
        ticket_event_recorded.connect(surveys.on_ticket_event, dispatch_uid="feedback_surveys")
        sample_source_register(SampleReason.LOW_CSAT, surveys.low_csat_tickets)
