"""Pre-checks: no greeting in the first reply, forbidden phrases, the customer's mood
dropping, long silences in business minutes; each finding points at its message and the
samples are ranked by how many they have."""

import pytest

from feedback.models import PrecheckKind, Sample
from feedback.services.prechecks import precheck_run
from feedback.services.quality_settings import quality_settings, quality_settings_update
from feedback.services.sampling import sample_draw
from feedback.services.scorecards import scorecard_default
from tests.factories import make_agent
from tests.feedback.factories import WEEK, at, conversation, rule_for
from tickets.models import Direction

pytestmark = pytest.mark.django_db


def findings(ticket, agent, team):  # type: ignore[no-untyped-def]
    sample = Sample.objects.create(
        week=WEEK, ticket=ticket, team=team, agent=agent, scorecard=scorecard_default()
    )
    return [(hit.kind, hit.message.body, hit.detail) for hit in precheck_run(sample=sample)]


def test_a_first_reply_without_a_greeting_is_found(default_team, agent):
    ticket = conversation(
        agent=agent,
        turns=[
            ("in", "我的快递到哪了", at(0, 10)),
            ("out", "单号发我。", at(0, 10, 2)),
            ("out", "您好，已经查到了。", at(0, 10, 4)),
        ],
    )
    assert findings(ticket, agent, default_team) == [(PrecheckKind.NO_GREETING, "单号发我。", "")]


@pytest.mark.parametrize("reply", ["您好，请稍等", "Hello, let me check.", "HI there"])
def test_a_greeting_in_chinese_or_english_passes(default_team, agent, reply):
    ticket = conversation(
        agent=agent, turns=[("in", "where is it", at(0, 10)), ("out", reply, at(0, 10, 1))]
    )
    assert findings(ticket, agent, default_team) == []


def test_forbidden_phrases_are_found_in_every_reply_and_the_list_is_editable(
    default_team, agent, supervisor
):
    ticket = conversation(
        agent=agent,
        turns=[
            ("in", "怎么还没到", at(0, 10)),
            ("out", "您好，这个不归我管。", at(0, 10, 1)),
            ("in", "那归谁管", at(0, 10, 2)),
            ("out", "您好，亲，这事真的没门儿。", at(0, 10, 3)),
        ],
    )
    assert findings(ticket, agent, default_team) == [
        (PrecheckKind.FORBIDDEN_PHRASE, "您好，这个不归我管。", "不归我管")
    ]
    config = quality_settings()
    quality_settings_update(
        greetings_zh=config.greetings_zh,
        greetings_en=config.greetings_en,
        forbidden_phrases=["没门儿"],
        silence_minutes=config.silence_minutes,
        sentiment_drop=config.sentiment_drop,
        actor=supervisor.user,
    )
    Sample.objects.all().delete()
    assert findings(ticket, agent, default_team) == [
        (PrecheckKind.FORBIDDEN_PHRASE, "您好，亲，这事真的没门儿。", "没门儿")
    ]


def test_a_drop_in_the_customers_mood_points_at_the_message(default_team, agent):
    ticket = conversation(
        agent=agent,
        turns=[
            ("in", "你好，谢谢你们，之前很满意", at(0, 10)),
            ("out", "您好，请问有什么可以帮您", at(0, 10, 1)),
            ("in", "太差了，很失望，我要投诉", at(0, 10, 2)),
            ("out", "您好，非常抱歉", at(0, 10, 3)),
        ],
    )
    angry = ticket.messages.get(direction=Direction.IN, body__startswith="太差")
    assert angry.sentiment is not None and angry.sentiment < 0
    found = findings(ticket, agent, default_team)
    assert [(kind, body) for kind, body, _detail in found] == [
        (PrecheckKind.SENTIMENT_DROP, "太差了，很失望，我要投诉")
    ]


def test_a_long_silence_counts_business_minutes_not_the_night(default_team, agent):
    # Monday 17:50 → Tuesday 09:10 is 20 business minutes (hours 9–12, 13–18).
    overnight = conversation(
        agent=agent,
        turns=[("in", "在吗", at(0, 17, 50)), ("out", "您好，在的", at(1, 9, 10))],
        user_id="overnight",
    )
    assert findings(overnight, agent, default_team) == []
    Sample.objects.all().delete()
    slow = conversation(
        agent=agent,
        turns=[
            ("in", "在吗", at(1, 10, 0)),
            ("in", "人呢", at(1, 10, 20)),
            ("out", "您好，在的", at(1, 10, 45)),
        ],
        user_id="slow",
    )
    # From the first unanswered message: 45 minutes, over the default 30.
    assert findings(slow, agent, default_team) == [(PrecheckKind.LONG_SILENCE, "在吗", "45")]


def test_samples_with_more_findings_come_first_for_the_reviewer(client, default_team, agent):
    rule_for(default_team, random_percent=100)
    clean = conversation(
        agent=agent,
        turns=[("in", "在吗", at(1, 10)), ("out", "您好，在的", at(1, 10, 1))],
        user_id="a",
    )
    messy = conversation(
        agent=agent,
        turns=[("in", "在吗", at(1, 11)), ("out", "不知道，你自己看", at(1, 11, 50))],
        user_id="b",
    )
    sample_draw(week=WEEK)
    reviewer = make_agent(teams=[default_team], role="supervisor")
    client.force_login(reviewer.user)
    page = client.get("/quality/samples/").content.decode()
    assert page.index(messy.number) < page.index(clean.number)
    sample = Sample.objects.get(ticket=messy)
    assert sample.hits.count() == 3  # no greeting, a forbidden phrase, a long silence
    workspace = client.get(f"/quality/samples/{sample.pk}/").content.decode()
    reply = messy.messages.get(direction=Direction.OUT)
    article = workspace[workspace.index(f'id="msg-{reply.pk}"') :]
    article = article[: article.index("</article>")]
    assert "No greeting in the first reply" in article or "首次回复没有问候" in article


def test_a_supervisor_edits_the_lists_on_the_settings_page(client, supervisor, agent):
    client.force_login(supervisor.user)
    page = client.get("/quality/settings/").content.decode()
    assert "不归我管" in page
    response = client.post(
        "/quality/settings/",
        {
            "greetings_zh": "您好\n 亲 \n",
            "greetings_en": "Hello",
            "forbidden_phrases": "没门儿",
            "silence_minutes": "15",
            "sentiment_drop": "0.8",
        },
    )
    assert response.status_code == 302
    config = quality_settings()
    assert config.greetings_zh == ["您好", "亲"]
    assert config.forbidden_phrases == ["没门儿"]
    assert (config.silence_minutes, config.sentiment_drop) == (15, 0.8)
    client.force_login(agent.user)
    assert client.post("/quality/settings/", {"silence_minutes": "1"}).status_code == 403
    assert quality_settings().silence_minutes == 15
