from datetime import time

import pytest

from sla.models import BusinessCalendar, EscalationRule, SlaPolicy
from sla.selectors import policy_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    # The messages asserted below are the English source strings.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def policy_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "大客户 Key accounts",
        "position": "5",
        "is_active": "on",
        "when_vip": "yes",
        "calendar": str(BusinessCalendar.objects.get(is_default=True).pk),
        "first_response_minutes": "15",
        "next_response_minutes": "",
        "plan_minutes": "",
        "resolution_minutes": "240",
        "warning_percent": "75",
        "warning_minutes_before": "",
        "pause_states": '["pending_customer"]',
        "milestone_warnings": "{}",
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-milestone": "first_response",
        "rules-0-level": "1",
        "rules-0-action": "notify_supervisor",
        "rules-0-delay_minutes": "0",
        "rules-0-target": "",
        "rules-0-hold_outside_hours": "on",
    }
    data.update(overrides)
    return data


def test_sla_pages_are_for_supervisors(client, agent, supervisor):
    client.force_login(agent.user)
    assert client.get("/sla/policies/").status_code == 403
    client.force_login(supervisor.user)
    assert client.get("/sla/policies/").status_code == 200
    assert client.get("/sla/calendars/").status_code == 200


def test_the_sla_root_opens_the_policies(client, supervisor):
    client.force_login(supervisor.user)

    response = client.get("/sla/")

    assert response.status_code == 302
    assert response["Location"] == "/sla/policies/"


def test_a_supervisor_adds_a_policy_that_applies_at_once(client, supervisor):
    from django.contrib.admin.models import LogEntry

    client.force_login(supervisor.user)

    response = client.post("/sla/policies/new/", policy_post())

    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="大客户 Key accounts")
    assert policy_for({"tier": "regular", "vip": True}) == policy
    assert policy_for({"tier": "regular", "vip": False}).name == "常规 Regular"
    rule = EscalationRule.objects.get(policy=policy)
    assert (rule.level, rule.action) == (1, "notify_supervisor")
    assert LogEntry.objects.get(object_id=str(policy.pk)).user == supervisor.user


def test_a_policy_can_answer_differently_outside_working_hours(client, supervisor):
    client.force_login(supervisor.user)

    response = client.post(
        "/sla/policies/new/",
        policy_post(out_of_hours_minutes='{"first_response": 1440}', use_policy_calendar="on"),
    )

    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="大客户 Key accounts")
    assert policy.out_of_hours_minutes == {"first_response": 1440}
    assert policy.use_policy_calendar
    listing = client.get("/sla/policies/").content.decode()
    assert "outside hours: 1440" in listing
    form = client.get(f"/sla/policies/{policy.pk}/").content.decode()
    assert 'name="out_of_hours_minutes"' in form
    assert "1440" in form


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("when_tier", "platinum", "Select a valid choice"),
        ("when_vip", "maybe", "Select a valid choice"),
        ("warning_percent", "100", "Between 1 and 99"),
        ("milestone_warnings", '{"lunch": {"percent": 50}}', "Unknown milestone lunch"),
        ("milestone_warnings", '{"plan": {"percent": 150}}', "between 1 and 99"),
        ("first_response_minutes", "", "Set at least one target"),
        ("out_of_hours_minutes", '{"lunch": 60}', "Unknown milestone lunch"),
        ("out_of_hours_minutes", '{"first_response": 0}', "positive number of minutes"),
        ("out_of_hours_minutes", '{"first_response": "1h"}', "positive number of minutes"),
        ("out_of_hours_minutes", "[1440]", "A JSON object keyed by milestone"),
        ("out_of_hours_minutes", '{"plan": 60}', "plan has an out-of-hours target but no"),
    ],
)
def test_an_invalid_policy_is_refused_with_the_reason(client, supervisor, field, value, message):
    client.force_login(supervisor.user)
    data = policy_post(**{field: value})
    if field == "first_response_minutes":
        data["resolution_minutes"] = ""

    response = client.post("/sla/policies/new/", data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SlaPolicy.objects.filter(name="大客户 Key accounts").exists()


def test_the_calendar_page_warns_about_a_year_without_holiday_data(client, supervisor, monkeypatch):
    from django.utils import timezone

    next_year = timezone.localdate().year + 1
    monkeypatch.setattr("sla.views.cn_calendar_covers", lambda year: year != next_year)
    client.force_login(supervisor.user)

    page = client.get("/sla/calendars/").content.decode()

    assert page.count('class="error coverage-warning"') == 1
    assert str(next_year) in page


def test_a_calendar_edit_saves_hours_and_a_custom_closure(client, supervisor):
    calendar = BusinessCalendar.objects.create(name="仓库 Warehouse", use_cn_holidays=False)
    client.force_login(supervisor.user)

    response = client.post(
        f"/sla/calendars/{calendar.pk}/",
        {
            "name": "仓库 Warehouse",
            "timezone": "Asia/Shanghai",
            "holiday_country": "",
            "hours-TOTAL_FORMS": "1",
            "hours-INITIAL_FORMS": "0",
            "hours-MIN_NUM_FORMS": "0",
            "hours-MAX_NUM_FORMS": "1000",
            "hours-0-weekday": "5",
            "hours-0-start": "08:00",
            "hours-0-end": "12:00",
            "dates-TOTAL_FORMS": "1",
            "dates-INITIAL_FORMS": "0",
            "dates-MIN_NUM_FORMS": "0",
            "dates-MAX_NUM_FORMS": "1000",
            "dates-0-date": "2026-12-26",
            "dates-0-name": "盘点 Stocktake",
        },
    )

    assert response.status_code == 302
    assert list(calendar.hours.values_list("weekday", "start")) == [(5, time(8))]
    closure = calendar.dates.get()
    assert (str(closure.date), closure.is_working) == ("2026-12-26", False)


def test_an_unknown_time_zone_is_refused(client, supervisor):
    client.force_login(supervisor.user)

    response = client.post(
        "/sla/calendars/new/",
        {
            "name": "x",
            "timezone": "Mars/Olympus",
            "hours-TOTAL_FORMS": "0",
            "hours-INITIAL_FORMS": "0",
            "dates-TOTAL_FORMS": "0",
            "dates-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "Unknown time zone Mars/Olympus" in response.content.decode()
