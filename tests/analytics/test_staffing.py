"""Staffing from a stored forecast: Erlang C per live channel, written channels as workload,
shrinkage, agents on shift, suggested shifts; shifts entered and imported from CSV; who may
see and change all this."""

import math
from datetime import datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from analytics import erlang, forecast, shifts, staffing
from analytics.models import ForecastRun, ShopEvent, StaffingSettings
from sla.models import BusinessCalendar, BusinessHours
from tests.factories import make_agent
from tickets.models import Agent, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english(client, settings):  # type: ignore[no-untyped-def]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def admin(default_team):  # type: ignore[no-untyped-def]
    return make_agent(teams=[default_team], role="admin")


@pytest.fixture
def next_monday() -> datetime:
    today = timezone.localdate()
    day = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime.combine(day, time(), tzinfo=timezone.get_default_timezone())


@pytest.fixture
def run(next_monday):  # type: ignore[no-untyped-def]
    """A stored forecast of one day: 60 calls and 30 emails every half hour."""
    return ForecastRun.objects.create(
        computed_at=timezone.now(),
        start=next_monday,
        interval_minutes=30,
        intervals=48,
        history_days=70,
        forecast={"phone": [60.0] * 48, "email": [30.0] * 48},
        accuracy={"": {"mape": 0.061, "wape": 0.2, "days": 28}},
    )


def test_live_channels_get_erlang_agents_and_written_ones_their_workload(run):
    settings = StaffingSettings(
        service_level_percent=80,
        answer_seconds=20,
        max_occupancy_percent=85,
        shrinkage_percent=30,
        reply_seconds={"phone": 300, "email": 240},
    )
    current = forecast.forecast_latest()
    assert current is not None

    plan = staffing.plan_build(current, settings)

    is_open = staffing.helpdesk_open(current.intervals, 30)
    assert any(is_open) and not all(is_open)
    phone = next(n for n in plan.channels if n.channel == "phone")
    assert phone.aht_seconds == 300  # no facts: one reply per contact
    calls = erlang.agents_required(
        contacts=60,
        interval_seconds=1800,
        aht=300,
        service_level_target=0.8,
        target_seconds=20,
        max_occupancy=0.85,
    )
    # Emails wait for the SLA's first response: 30 × 240 s of work in 1800 s at 85 %.
    emails = 30 * 240 / 1800 / 0.85
    first_open = is_open.index(True)
    for i, open_now in enumerate(is_open):
        if not open_now:
            assert phone.agents[i] == 0 and plan.required[i] == 0
        elif i >= 4 and all(is_open[i - 4 : i + 1]):  # past the hours that take the backlog
            assert phone.agents[i] == calls
            assert plan.required[i] == calls + math.ceil(emails)
            assert plan.rostered[i] == math.ceil((calls + math.ceil(emails)) / 0.7)
    # The night's emails are answered in the first two hours after the opening.
    assert plan.required[first_open] > plan.required[first_open + 6]


def test_agents_on_shift_are_counted_where_their_hours_are_open(run, default_team, next_monday):
    early = make_agent(teams=[default_team])
    late = make_agent(teams=[default_team])
    make_agent(teams=[default_team])  # no shift hours: on no roster
    shifts.shift_set(agent=early, weekdays={0, 1, 2, 3, 4}, start=time(8), end=time(16), actor=None)
    shifts.shift_set(agent=late, weekdays={0}, start=time(12), end=time(20), actor=None)
    current = forecast.forecast_latest()
    assert current is not None

    scheduled = staffing.scheduled_agents(current.intervals, 30)

    assert scheduled[15] == 0  # 07:30
    assert scheduled[16] == 1  # 08:00
    assert scheduled[24] == 2  # 12:00
    assert scheduled[32] == 1  # 16:00
    assert scheduled[40] == 0  # 20:00


def test_suggested_shifts_cover_the_need_with_the_fewest_agents(next_monday):
    intervals = [next_monday + timedelta(minutes=30 * i) for i in range(48)]
    need = [0] * 48
    for i in range(18, 36):  # 09:00–18:00: two agents
        need[i] = 2
    for i in range(24, 32):  # 12:00–16:00: three
        need[i] = 3

    suggestion = staffing.shifts_suggest(intervals=intervals, need=need, shift_intervals=16)

    covered = [0] * 48
    for start, count in suggestion.starts:
        first = intervals.index(start)
        for i in range(first, first + 16):
            covered[i] += count
    assert all(c >= n for c, n in zip(covered, need, strict=True))
    # 9 hours at two agents need two overlapping pairs; the 12–16 peak fits inside them.
    assert suggestion.agents == 4
    assert suggestion.covered


# --- shifts: entered and imported ---------------------------------------------------------


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("shifts.csv", text.encode("utf-8"), content_type="text/csv")


def test_a_good_csv_replaces_the_named_agents_weekly_shifts(client, supervisor, agent):
    agent.user.username = "li.na"
    agent.user.save()
    shifts.shift_set(agent=agent, weekdays={5}, start=time(9), end=time(12), actor=None)
    client.force_login(supervisor.user)

    response = client.post(
        "/reports/staffing/shifts/import/",
        {
            "file": csv_file(
                "agent,weekday,start,end\nli.na,1,09:00,18:00\nli.na,周二,13:00,24:00\n"
            )
        },
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.shift_calendar is not None
    hours = list(agent.shift_calendar.hours.values_list("weekday", "start", "end"))
    assert hours == [(0, time(9), time(18)), (1, time(13), time.max)]
    entry = AuditEntry.objects.get(action="shifts_imported")
    assert (entry.actor, entry.object_id, entry.data) == (
        supervisor.user,
        str(agent.pk),
        {"shifts": 2},
    )


def test_a_csv_with_bad_rows_names_each_and_imports_nothing(client, supervisor, agent):
    agent.user.username = "li.na"
    agent.user.save()
    shifts.shift_set(agent=agent, weekdays={2}, start=time(9), end=time(17), actor=None)
    client.force_login(supervisor.user)
    text = (
        "agent,weekday,start,end\n"
        "li.na,1,09:00,18:00\n"
        "nobody,2,09:00,18:00\n"
        "li.na,8,09:00,18:00\n"
        "li.na,3,9am,18:00\n"
        "li.na,4,20:00,04:00\n"
        "li.na,1,17:00,19:00\n"
        "li.na,5\n"
    )

    response = client.post("/reports/staffing/shifts/import/", {"file": csv_file(text)})

    assert response.status_code == 400
    errors = response.context["import_errors"]
    assert [e.split(":")[0] for e in errors] == [
        "Line 3",
        "Line 4",
        "Line 5",
        "Line 6",
        "Line 7",
        "Line 8",
    ]
    assert "no active agent 'nobody'" in errors[0]
    assert "weekday '8'" in errors[1]
    assert "start '9am' is not HH:MM" in errors[2]
    assert "ends before it starts" in errors[3]
    assert "overlaps another shift" in errors[4]
    assert "expected 4 values, found 2" in errors[5]
    agent.refresh_from_db()
    assert agent.shift_calendar is not None
    assert list(agent.shift_calendar.hours.values_list("weekday", "start", "end")) == [
        (2, time(9), time(17))
    ]
    assert not AuditEntry.objects.filter(action="shifts_imported").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,day\nx,1\n", "The first line must be: agent,weekday,start,end"),
        (b"agent,weekday,start,end\n", "The file has no shifts."),
        ("agent,weekday,start,end\n".encode("utf-16"), "The file is not UTF-8 text."),
    ],
)
def test_a_csv_that_is_not_a_roster_is_refused(content, message):
    with translation.override("en"), pytest.raises(shifts.ShiftImportError) as error:
        shifts.shifts_import(content=content, actor=None)

    assert error.value.errors == [message]


def test_an_agent_sharing_a_calendar_gets_their_own_with_the_same_hours(default_team):
    shared = BusinessCalendar.objects.create(name="Early shift")
    BusinessHours.objects.create(calendar=shared, weekday=0, start=time(8), end=time(16))
    first = make_agent(teams=[default_team])
    second = make_agent(teams=[default_team])
    Agent.objects.filter(pk__in=[first.pk, second.pk]).update(shift_calendar=shared)
    first.refresh_from_db()

    shifts.shift_set(agent=first, weekdays={1}, start=time(10), end=time(18), actor=None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.shift_calendar_id != shared.pk
    assert list(first.shift_calendar.hours.values_list("weekday", "start")) == [
        (0, time(8)),
        (1, time(10)),
    ]
    assert second.shift_calendar_id == shared.pk
    assert shared.hours.count() == 1


def test_a_shift_entered_on_the_page_is_saved(client, supervisor, agent):
    client.force_login(supervisor.user)

    response = client.post(
        "/reports/staffing/shifts/",
        {"agent": agent.pk, "weekdays": ["0", "2"], "start": "09:00", "end": "17:30"},
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.shift_calendar is not None
    assert list(agent.shift_calendar.hours.values_list("weekday", "end")) == [
        (0, time(17, 30)),
        (2, time(17, 30)),
    ]


def test_a_shift_that_ends_before_it_starts_is_a_form_error(client, supervisor, agent):
    client.force_login(supervisor.user)

    response = client.post(
        "/reports/staffing/shifts/",
        {"agent": agent.pk, "weekdays": ["0"], "start": "22:00", "end": "06:00"},
    )

    assert response.status_code == 400
    assert "split at midnight" in response.content.decode()
    agent.refresh_from_db()
    assert agent.shift_calendar is None


# --- pages and settings -------------------------------------------------------------------


def test_the_staffing_page_shows_need_against_schedule(client, supervisor, run):
    client.force_login(supervisor.user)

    response = client.get("/reports/staffing/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="staffing-data"' in body and "kefu/forecast.js" in body
    assert "<script>" not in body
    rows = response.context["rows"]
    assert len(rows) == 48
    assert response.context["suggestion"].agents > 0


def test_a_day_of_the_forecast_can_be_chosen_and_a_bad_one_shows_the_first(
    client, supervisor, run, next_monday
):
    client.force_login(supervisor.user)

    chosen = client.get(f"/reports/staffing/?day={next_monday:%Y-%m-%d}")
    impossible = client.get("/reports/staffing/?day=2026-13-45")
    outside = client.get("/reports/staffing/?day=1999-01-01")

    assert chosen.context["day"] == next_monday.date()
    assert impossible.status_code == outside.status_code == 200
    assert impossible.context["day"] == outside.context["day"] == next_monday.date()


def test_settings_are_saved_and_bad_ones_are_a_form_error(client, supervisor):
    client.force_login(supervisor.user)
    values = {
        "service_level_percent": "90",
        "answer_seconds": "15",
        "max_occupancy_percent": "80",
        "shrinkage_percent": "35",
        "shift_hours": "9",
        **{f"reply_{c}": "120" for c in staffing.DEFAULT_REPLY_SECONDS},
    }

    saved = client.post("/reports/staffing/settings/", values)
    refused = client.post("/reports/staffing/settings/", {**values, "shrinkage_percent": "95"})

    assert saved.status_code == 302
    stored = StaffingSettings.objects.get(pk=1)
    assert (stored.service_level_percent, stored.answer_seconds, stored.shrinkage_percent) == (
        90,
        15,
        35,
    )
    assert stored.reply_seconds["phone"] == 120
    assert AuditEntry.objects.get(action="staffing_settings_changed").actor == supervisor.user
    assert refused.status_code == 400
    assert StaffingSettings.objects.get(pk=1).shrinkage_percent == 35


def test_the_forecast_page_shows_the_chart_accuracy_and_events(client, supervisor, run):
    ShopEvent.objects.create(
        name="双11",
        start=timezone.localdate() + timedelta(days=1),
        end=timezone.localdate() + timedelta(days=2),
        uplift_percent=80,
    )
    client.force_login(supervisor.user)

    response = client.get("/reports/forecast/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="forecast-data"' in body and "kefu/forecast.js" in body
    assert "<script>" not in body
    assert "6.1%" in body  # MAPE
    assert "双11" in body
    channels = response.context["chart"]["channels"]
    assert [c["code"] for c in channels] == ["", "email", "phone"]


def test_shop_events_are_added_validated_and_deleted(client, supervisor):
    client.force_login(supervisor.user)

    added = client.post(
        "/reports/forecast/events/",
        {"name": "618", "start": "2026-06-01", "end": "2026-06-18", "uplift_percent": "60"},
    )
    backwards = client.post(
        "/reports/forecast/events/",
        {"name": "x", "start": "2026-06-18", "end": "2026-06-01", "uplift_percent": "60"},
    )
    event = ShopEvent.objects.get()
    deleted = client.post(f"/reports/forecast/events/{event.pk}/delete/")

    assert added.status_code == 302
    assert (event.name, event.uplift_percent, event.channel) == ("618", 60, "")
    assert backwards.status_code == 400
    assert "The last day comes before the first." in backwards.content.decode()
    assert deleted.status_code == 302
    assert not ShopEvent.objects.exists()


def test_a_shop_event_is_changed_through_its_edit_form(client, supervisor):
    event = ShopEvent.objects.create(
        name="双11", start=timezone.localdate(), end=timezone.localdate(), uplift_percent=50
    )
    client.force_login(supervisor.user)

    form = client.get(f"/reports/forecast/?edit={event.pk}")
    changed = client.post(
        f"/reports/forecast/events/{event.pk}/",
        {
            "name": "双11",
            "start": f"{event.start:%Y-%m-%d}",
            "end": f"{event.end:%Y-%m-%d}",
            "uplift_percent": "120",
            "channel": "phone",
        },
    )

    assert f'action="/reports/forecast/events/{event.pk}/"' in form.content.decode()
    assert changed.status_code == 302
    event.refresh_from_db()
    assert (event.uplift_percent, event.channel) == (120, "phone")
    assert AuditEntry.objects.filter(action="shop_event_saved", object_id=str(event.pk)).exists()


def test_an_agent_is_taken_off_the_roster(client, supervisor, agent):
    shifts.shift_set(agent=agent, weekdays={0}, start=time(9), end=time(17), actor=None)
    client.force_login(supervisor.user)

    response = client.post(f"/reports/staffing/shifts/{agent.pk}/clear/")

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.shift_calendar is None
    assert AuditEntry.objects.get(action="shift_cleared").actor == supervisor.user


def test_recompute_stores_a_new_forecast(
    client, supervisor, run, django_capture_on_commit_callbacks
):
    client.force_login(supervisor.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/forecast/recompute/")

    assert response.status_code == 302
    assert ForecastRun.objects.count() == 2


def test_the_pages_without_a_forecast_say_so(client, supervisor):
    client.force_login(supervisor.user)

    assert 'id="forecast-empty"' in client.get("/reports/forecast/").content.decode()
    assert 'id="staffing-empty"' in client.get("/reports/staffing/").content.decode()


PAGES = [
    ("get", "/reports/forecast/"),
    ("get", "/reports/staffing/"),
    ("post", "/reports/forecast/recompute/"),
    ("post", "/reports/forecast/events/"),
    ("post", "/reports/staffing/settings/"),
    ("post", "/reports/staffing/shifts/"),
    ("post", "/reports/staffing/shifts/import/"),
    ("post", "/reports/forecast/events/1/"),
    ("post", "/reports/forecast/events/1/delete/"),
    ("post", "/reports/staffing/shifts/1/clear/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_agents_may_not_see_or_change_forecast_and_staffing(client, agent, run, method, url):
    client.force_login(agent.user)

    response = getattr(client, method)(url)

    assert response.status_code == 403
    assert ForecastRun.objects.count() == 1
    assert not ShopEvent.objects.exists()


@pytest.mark.parametrize(("method", "url"), PAGES[:2])
def test_anonymous_visitors_are_sent_to_sign_in(client, method, url):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admins_see_the_pages(client, admin, run):
    client.force_login(admin.user)

    assert client.get("/reports/forecast/").status_code == 200
    assert client.get("/reports/staffing/").status_code == 200


def test_the_pages_are_in_chinese_by_default(client, supervisor, run):
    client.cookies.clear()
    client.force_login(supervisor.user)

    body = client.get("/reports/staffing/").content.decode()

    assert "排班" in body


def test_an_agent_on_a_weekday_shift_is_off_on_a_public_holiday(default_team):
    rostered = make_agent(teams=[default_team])
    shifts.shift_set(
        agent=rostered, weekdays={0, 1, 2, 3, 4}, start=time(9), end=time(17), actor=None
    )
    tz = timezone.get_default_timezone()
    noon = [
        datetime(2025, 9, 30, 12, tzinfo=tz),  # Tuesday, a working day
        datetime(2025, 10, 1, 12, tzinfo=tz),  # Wednesday, National Day
        datetime(2025, 9, 28, 12, tzinfo=tz),  # Sunday, a make-up workday
    ]

    assert staffing.scheduled_agents(noon, 30) == [1, 0, 1]


def test_the_demo_roster_puts_agents_on_shift_who_are_never_assigned(settings):
    from django.core.management import call_command

    settings.EMBEDDED = True

    call_command("seed_demo_shifts", verbosity=0)
    call_command("seed_demo_shifts", verbosity=0)  # a second run adds nothing

    rostered = Agent.objects.filter(shift_calendar__isnull=False)
    assert rostered.count() == 8
    assert not rostered.filter(is_available=True).exists()
    assert not rostered.filter(teams__isnull=False).exists()


def test_the_staffing_page_reads_as_many_queries_for_a_large_roster_as_a_small_one(
    client, supervisor, run, default_team
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sla.selectors import calendar_cache_clear

    client.force_login(supervisor.user)

    def queries() -> int:
        calendar_cache_clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/reports/staffing/").status_code == 200
        return len(captured)

    def roster(count: int) -> None:
        for _ in range(count):
            agent = make_agent(teams=[default_team])
            shifts.shift_set(agent=agent, weekdays={0}, start=time(9), end=time(17), actor=None)

    roster(2)
    few = queries()
    roster(8)
    many = queries()

    assert many == few
