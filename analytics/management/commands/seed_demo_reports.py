"""A scheduled report for the embedded demo: the demo supervisor receives the weekly
after-sales service report in Chinese, XLSX and PDF, so the settings page
(/reports/scheduled/) shows a subscription and its preview reads the demo's history."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analytics.models import ReportLanguage, ReportSubscription, ScheduledReport
from analytics.scheduled import subscription_save


class Command(BaseCommand):
    help = "A weekly after-sales report subscription for the demo supervisor (embedded mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo_reports writes demo data; it runs in embedded mode only.")
        if ReportSubscription.objects.exists():
            return
        supervisor = get_user_model().objects.filter(username="supervisor").first()
        if supervisor is None:
            return
        if not supervisor.email:
            # Demo data: the outbox (/outbox/) shows what would have gone to this address.
            supervisor.email = "chen@kefu.localhost"
            supervisor.save(update_fields=["email"])
        subscription_save(
            subscription=None,
            report=ScheduledReport.AFTERSALES_WEEKLY,
            recipients=[supervisor],
            language=ReportLanguage.ZH_HANS,
            attach_xlsx=True,
            attach_pdf=True,
            is_active=True,
            actor=None,
        )
