from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and quality")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What feedback shows on the core's pages (tickets.hooks).
        from feedback.panels import complaint_panel, quality_panel
        from feedback.services.complaints import (
            complaint_close_guard,
            complaint_close_guards,
            complaint_on_ticket_event,
            complaint_on_ticket_opened,
        )
        from tickets import hooks
        from tickets.signals import ticket_event_recorded

        # A ticket's quality reviews, for supervisors and the reviewed agent only.
        hooks.ticket_panel_register("feedback.quality", quality_panel)
        # Complaints: the card (flag, review, suggestion), an owner for a complaint triage
        # recognised, and no resolving or closing a complaint without its review.
        hooks.ticket_panel_register("feedback.complaint", complaint_panel)
        hooks.ticket_opened_register("feedback.complaint", complaint_on_ticket_opened)
        hooks.close_guard_register(
            "feedback.complaint_review", complaint_close_guard, batch=complaint_close_guards
        )
        # A complaint resolved owes its customer a call-back from its owner.
        ticket_event_recorded.connect(
            complaint_on_ticket_event, dispatch_uid="feedback_complaint_callback"
        )
        # A customer's suggestions and their complaints' reviews, in export and erasure.
        from feedback import complaints_privacy
        from tickets.personal_data import personal_data_register

        personal_data_register(complaints_privacy.source)
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
        from tickets.models import EventKind
        from tickets.signals import ticket_event_recorded, ticket_events_recorded

        hooks.ticket_panel_register("feedback.surveys", survey_panels.survey_panel)
        hooks.timeline_source_register("feedback.answers", survey_panels.survey_answers)
        hooks.timeline_source_register("feedback.callbacks", survey_panels.callbacks_made)
        hooks.timeline_source_register("feedback.attempts", survey_panels.callback_attempts)
        # Its invitations on the ticket's timeline, named in the reader's language.
        hooks.trail_label_register("feedback.surveys", EventKind.NOTICE, surveys.trail_label)
        hooks.inbound_interceptor_register(
            "feedback.sms_survey",
            surveys.sms_reply_intercept,
            batch=surveys.sms_replies_intercept,
        )
        ticket_event_recorded.connect(surveys.on_ticket_event, dispatch_uid="feedback_surveys")
        ticket_events_recorded.connect(
            surveys.on_ticket_events, dispatch_uid="feedback_surveys_batch"
        )
        sample_source_register(SampleReason.LOW_CSAT, surveys.low_csat_tickets)
