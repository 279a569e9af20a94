from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from aftersales.signals import case_steps_recorded
        from analytics import receivers
        from feedback.signals import survey_answered, surveys_answered
        from tickets.signals import ticket_event_recorded, ticket_events_recorded

        # A change on a ticket's trail marks its facts due a refresh (analytics.facts).
        ticket_event_recorded.connect(
            receivers.on_ticket_event, dispatch_uid="analytics_facts_mark"
        )
        ticket_events_recorded.connect(
            receivers.on_ticket_events, dispatch_uid="analytics_facts_mark_batch"
        )
        # A survey answered moves the ticket's CSAT or NPS (its invitation is a trail entry).
        survey_answered.connect(receivers.on_survey_answered, dispatch_uid="analytics_survey_mark")
        surveys_answered.connect(
            receivers.on_surveys_answered, dispatch_uid="analytics_survey_mark_batch"
        )
        # A step recorded on an after-sales case marks its facts (analytics.casefacts).
        case_steps_recorded.connect(receivers.on_case_steps, dispatch_uid="analytics_case_mark")
