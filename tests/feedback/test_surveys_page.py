"""The one-click survey page (signed, single-use, expiring link; no sign-in), the chat
widget's inline stars, the supervisors' pages, and the ratings API."""

from datetime import timedelta

import pytest
from django.core.cache import caches

from channels_ingest.chat.events import widget_message
from feedback.models import Callback, CallbackReason, Survey
from feedback.services.surveys import (
    SurveyRefused,
    survey_answer_chat,
    survey_invite,
    survey_link,
    survey_token,
)
from tests.factories import UserFactory, issue_token
from tests.feedback.surveys_support import (
    DAYTIME,
    Clock,
    answered_and_resolved,
    configure,
    customer_ticket,
    outbox,  # noqa: F401  (fixture)
)
from tickets.models import Channel, Message

pytestmark = pytest.mark.usefixtures("outbox")


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    return Clock(monkeypatch, DAYTIME)


def invited_on(channel: str, agent, **who: object) -> Survey:  # type: ignore[no-untyped-def]
    configure(delay_minutes=0, fatigue_days=0)
    ticket = answered_and_resolved(customer_ticket(channel=channel, **who), agent)  # type: ignore[arg-type]
    survey = Survey.objects.get(ticket=ticket)
    survey_invite(survey_id=survey.pk)
    survey.refresh_from_db()
    return survey


@pytest.fixture
def emailed(agent, clock):  # type: ignore[no-untyped-def]
    return invited_on(Channel.EMAIL, agent, phone=None, email="kim@example.com")


def path_of(survey: Survey) -> str:
    return f"/feedback/s/{survey_token(survey)}/"


def test_the_link_in_the_invitation_opens_the_page_without_sign_in(client, emailed):
    message = Message.objects.get(pk=emailed.message_id)
    assert survey_link(emailed) in message.body
    page = client.get(path_of(emailed))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="score"' in html and 'value="5"' in html and 'value="1"' in html
    assert "问题已解决" in html  # the settings' tags
    assert 'name="viewport"' in html


def test_a_rating_with_tags_and_a_comment_is_stored_once(client, emailed):
    unknown = client.post(path_of(emailed), {"score": "4", "tags": ["不存在的标签"]})
    assert unknown.status_code == 400
    answer = client.post(path_of(emailed), {"score": "4", "tags": ["回复及时"], "comment": "挺好"})
    assert answer.status_code == 200
    emailed.refresh_from_db()
    assert (emailed.score, emailed.tags, emailed.comment, emailed.answered_via) == (
        4,
        ["回复及时"],
        "挺好",
        "web",
    )
    again = client.post(path_of(emailed), {"score": "1"})
    assert again.status_code == 410
    assert 'data-code="used"' in again.content.decode()
    emailed.refresh_from_db()
    assert emailed.score == 4
    assert not Callback.objects.exists()


def test_a_forged_link_stores_nothing(client, emailed):
    token = survey_token(emailed)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (tampered, f"{emailed.pk}.{emailed.nonce}", "x", f"{emailed.pk + 1}.zz:abc"):
        page = client.post(f"/feedback/s/{bad}/", {"score": "5"})
        assert page.status_code == 404, bad
        assert 'data-code="forged"' in page.content.decode()
    emailed.refresh_from_db()
    assert emailed.answered_at is None


def test_a_token_for_a_survey_with_another_nonce_is_forged(client, emailed):
    token = survey_token(emailed)
    Survey.objects.filter(pk=emailed.pk).update(nonce="0" * 16)
    assert client.get(f"/feedback/s/{token}/").status_code == 404


def test_an_expired_link_stores_nothing(client, emailed, clock):
    clock.set(DAYTIME + timedelta(days=7, seconds=1))
    page = client.post(path_of(emailed), {"score": "5"})
    assert page.status_code == 410
    assert 'data-code="expired"' in page.content.decode()
    emailed.refresh_from_db()
    assert emailed.answered_at is None


def test_a_score_off_the_scale_is_refused_with_the_form(client, emailed):
    for score in ("0", "6", "abc", ""):
        page = client.post(path_of(emailed), {"score": score})
        assert page.status_code == 400
    emailed.refresh_from_db()
    assert emailed.answered_at is None


def test_a_low_rating_or_an_angry_comment_makes_a_call_back(client, agent, clock):
    low = invited_on(Channel.EMAIL, agent, phone=None, email="a@example.com")
    angry = invited_on(Channel.EMAIL, agent, phone=None, email="b@example.com")
    happy = invited_on(Channel.EMAIL, agent, phone=None, email="c@example.com")
    client.post(path_of(low), {"score": "1"})
    client.post(path_of(angry), {"score": "4", "comment": "太差劲了，非常生气，再也不买了"})
    client.post(path_of(happy), {"score": "3", "comment": "态度很好"})
    reasons = dict(Callback.objects.values_list("survey_id", "reason"))
    assert reasons == {low.pk: CallbackReason.LOW_CSAT, angry.pk: CallbackReason.ANGRY_COMMENT}


def test_the_public_page_is_rate_limited(client, emailed, settings):
    settings.RATELIMIT_ENABLE = True
    settings.STATUS_RATE_LIMIT = "2/h"  # an hour: the window does not roll over mid-test
    caches["ratelimit"].clear()
    codes = [client.post(path_of(emailed), {"score": "9"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    emailed.refresh_from_db()
    assert emailed.answered_at is None


def test_an_nps_page_asks_zero_to_ten_without_tags(client, emailed):
    Survey.objects.filter(pk=emailed.pk).update(kind="nps")
    html = client.get(path_of(emailed)).content.decode()
    assert 'value="0"' in html and 'value="10"' in html and "问题已解决" not in html
    assert client.post(path_of(emailed), {"score": "6"}).status_code == 200
    assert Callback.objects.get().reason == CallbackReason.DETRACTOR


def test_a_chat_invitation_carries_its_scale_and_only_its_visitor_may_rate(agent, clock):
    survey = invited_on(Channel.CHAT, agent, phone=None, user_id="visitor-1")
    message = Message.objects.get(pk=survey.message_id)
    assert widget_message(message)["rate"] == {"min": 1, "max": 5}
    with pytest.raises(SurveyRefused) as refused:
        survey_answer_chat(address="visitor-2", message_id=message.pk, score=5)
    assert refused.value.code == "forged"
    survey_answer_chat(address="visitor-1", message_id=message.pk, score=5)
    with pytest.raises(SurveyRefused) as again:
        survey_answer_chat(address="visitor-1", message_id=message.pk, score=1)
    assert again.value.code == "used"
    survey.refresh_from_db()
    assert (survey.score, survey.answered_via) == (5, "chat")


def test_the_ticket_page_shows_the_rating_on_the_timeline_and_in_its_card(client, emailed, agent):
    client.post(path_of(emailed), {"score": "2", "comment": "打我电话 13800138000，退款没到"})
    client.force_login(agent.user)
    html = client.get(f"/tickets/{emailed.ticket.number}/").content.decode()
    assert 'id="ticket-surveys"' in html
    assert 'class="event survey-answer"' in html
    assert "2/5" in html
    assert "13800138000" not in html  # masked, as messages are
    assert 'class="event callback-made"' in html


def test_the_cards_call_back_form_is_in_the_pages_language(client, emailed, agent):
    client.force_login(agent.user)
    path = f"/tickets/{emailed.ticket.number}/"
    for language, label in (
        ("zh-hans", "回访原因"),
        ("en", "Why call back?"),
        ("zh-hans", "回访原因"),
    ):
        client.cookies["django_language"] = language
        html = client.get(path).content.decode()
        form = html[html.index('class="callback-add"') :]
        assert label in form
        assert 'name="note"' in form and 'name="due_at"' in form and 'name="take"' in form


def test_the_supervisors_figures_and_settings_pages(client, emailed, supervisor, agent):
    client.post(path_of(emailed), {"score": "5"})
    client.force_login(agent.user)
    assert client.get("/feedback/surveys/").status_code == 403
    assert client.get("/feedback/surveys/settings/").status_code == 403
    client.force_login(supervisor.user)
    page = client.get("/feedback/surveys/?by=team")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="kpi-csat"' in html and "100.0%" in html
    assert client.get("/feedback/surveys/?by=nonsense&from=bad").status_code == 200
    saved = client.post(
        "/feedback/surveys/settings/",
        {
            "delay_minutes": "5",
            "channels": ["sms", "chat"],
            "fatigue_days": "14",
            "expiry_days": "3",
            "tags": "快\n好\n快",
            "nps_is_active": "on",
            "nps_order_days": "7",
            "nps_order_percent": "10",
            "nps_quarter_sample": "50",
            "callback_due_minutes": "120",
            "angry_sentiment": "-0.4",
        },
    )
    assert saved.status_code == 302
    from feedback.services.surveys import survey_settings

    config = survey_settings()
    assert (config.delay_minutes, config.channels, config.fatigue_days, config.tags) == (
        5,
        ["sms", "chat"],
        14,
        ["快", "好"],
    )
    bad = client.post("/feedback/surveys/settings/", {"delay_minutes": "-1"})
    assert bad.status_code == 400


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for path in ("/feedback/surveys/", "/feedback/callbacks/"):
        assert client.get(path).status_code == 302


def test_the_ratings_api_pages_the_answers_for_a_reports_token(client, agent, clock):
    surveys = [
        invited_on(Channel.EMAIL, agent, phone=None, email=f"r{n}@example.com") for n in range(3)
    ]
    for index, survey in enumerate(surveys):
        client.post(path_of(survey), {"score": str(5 - index), "comment": "电话 13800138000"})
    key = issue_token("bi", scopes=["reports"])
    first = client.get(
        "/api/v1/feedback/ratings?page_size=2", headers={"Authorization": f"Token {key}"}
    )
    assert first.status_code == 200
    body = first.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    row = body["results"][0]
    assert (row["kind"], row["score"], row["ticket"], row["channel"]) == (
        "csat",
        5,
        surveys[0].ticket.number,
        "email",
    )
    assert row["agents"] == [agent.user.username]
    assert "13800138000" not in row["comment"]
    other = issue_token("app", scopes=["inbound:app"])
    denied = client.get("/api/v1/feedback/ratings", headers={"Authorization": f"Token {other}"})
    assert denied.status_code == 403
    assert client.get("/api/v1/feedback/ratings").status_code in (401, 403)
    bad = client.get(
        "/api/v1/feedback/ratings?since=yesterday", headers={"Authorization": f"Token {key}"}
    )
    assert bad.status_code == 400


def test_a_signed_in_customer_without_a_role_cannot_see_the_pages(client, db):
    client.force_login(UserFactory())
    assert client.get("/feedback/surveys/").status_code == 403
    assert client.get("/feedback/callbacks/").status_code == 403
