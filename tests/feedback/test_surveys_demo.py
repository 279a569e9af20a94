"""The demo's surveys: resolved tickets with ratings, an NPS figure and call-backs; loaded
once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from feedback.models import Callback, Survey
from feedback.selectors.surveys import csat_total, nps_total

pytestmark = pytest.mark.django_db


def test_the_demo_loads_ratings_an_nps_figure_and_call_backs_once(settings):
    settings.EMBEDDED = True
    settings.NOTICE_QUIET_HOURS = ""  # daytime: the SMS invitation goes out and is answered
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo_feedback", stdout=StringIO())
    now = timezone.now()
    csat = csat_total(start=now - timedelta(days=1), end=now + timedelta(days=1))
    nps = nps_total(start=now - timedelta(days=1), end=now + timedelta(days=1))
    assert (csat.answered, csat.satisfied) == (9, 5)
    assert (nps.answered, nps.promoters, nps.detractors) == (8, 4, 2)
    assert nps.nps == 25.0
    assert Survey.objects.get(answered_via="sms").score == 2
    reasons = sorted(Callback.objects.values_list("reason", flat=True))
    # "等了三天" with a 3 reads as angry to the sentiment lexicon.
    assert reasons == [
        "angry_comment",
        "complaint",
        "detractor",
        "detractor",
        "low_csat",
        "low_csat",
        "low_csat",
        "manual",
    ]
    # The complaint resolved after its review: the supervisor who owns it calls back.
    complaint = Callback.objects.get(reason="complaint")
    assert complaint.owner is not None and complaint.owner.user.username == "supervisor"
    assert complaint.closed_at is None
    counts = (Survey.objects.count(), Callback.objects.count())
    call_command("seed_demo_feedback", stdout=StringIO())
    assert (Survey.objects.count(), Callback.objects.count()) == counts
