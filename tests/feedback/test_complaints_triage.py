"""Triage recognises complaints in Chinese and English, by rules supervisors edit and over a
category model; a recognised complaint gets its owner (a supervisor) and the complaint SLA
policy at intake."""

import pytest

from feedback.models import Complaint, ComplaintSource
from kb.models import RuleKind, TriageRule
from kb.rules import DEFAULT_CONFIG, Category
from kb.triage import _triage, triage_text
from sla.models import SlaClock
from tests.factories import TeamFactory, make_agent
from tests.feedback.complaints_support import (
    COMPLAINT_TEXT,
    complaint_ticket,
    english,  # noqa: F401
)
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (COMPLAINT_TEXT, ["投诉", "态度太差"]),
        ("冰箱又坏了，这已经是第三次了", ["又坏了", "第三次"]),
        ("再不处理我就打12315，还要找媒体曝光", ["12315", "曝光", "找媒体", "媒体"]),
        ("I want to complain, your agent was rude", ["complain", "rude"]),
        ("This is unacceptable", ["unacceptable"]),
        ("Third time the blender broke, still not fixed", ["third time", "still not fixed"]),
    ],
)
def test_complaints_are_recognised_in_chinese_and_english(text, words):
    triage = triage_text(text)

    assert triage.category == Category.COMPLAINT
    assert triage.is_complaint
    assert sorted(triage.complaint_words) == sorted(words)
    assert triage.category_source == "rules"


def test_ordinary_questions_are_not_complaints():
    for text in ["快递还没到，物流信息不动", "想退货退款", "How do I reset my password?", "你好"]:
        triage = triage_text(text)
        assert triage.category != Category.COMPLAINT, text
        assert triage.complaint_words == []


def test_complaint_words_win_over_more_hits_of_another_category():
    # Three after-sales words, one complaint word: still a complaint.
    assert triage_text("退货退款换货都不给办，我要投诉").category == Category.COMPLAINT


def test_complaint_words_win_over_the_category_model(monkeypatch):
    class Model:
        def probabilities_of(self, features):  # type: ignore[no-untyped-def]
            return {"logistics": 0.9, "tech": 0.1}

    from dataclasses import replace

    config = replace(DEFAULT_CONFIG, category_model=Model(), category_model_id=7)  # type: ignore[arg-type]

    plain = _triage("快递到哪了", config, is_vip=False, repeat_contacts=0)
    complaint = _triage("快递员态度太差，我要投诉", config, is_vip=False, repeat_contacts=0)

    assert (plain.category, plain.category_source, plain.category_confidence) == (
        "logistics",
        "model",
        0.9,
    )
    assert (complaint.category, complaint.category_source) == (Category.COMPLAINT, "rules")
    assert complaint.category_confidence is None
    assert complaint.model_version == 7


def test_a_supervisor_edits_the_complaint_rule_on_the_triage_page_and_triage_follows(
    client, supervisor
):
    rule = TriageRule.objects.get(kind=RuleKind.CATEGORY, code=Category.COMPLAINT)
    assert triage_text("你们的服务让人寒心").category != Category.COMPLAINT
    client.force_login(supervisor.user)

    response = client.post(
        "/kb/manage/triage/rules/",
        {
            "prefix": "edit",
            "edit-kind": RuleKind.CATEGORY,
            "edit-code": Category.COMPLAINT,
            "edit-words": "\n".join([*rule.words, "寒心"]),
            "edit-position": rule.position,
            "edit-is_active": "on",
        },
    )

    assert response.status_code == 302
    assert "寒心" in TriageRule.objects.get(pk=rule.pk).words
    assert triage_text("你们的服务让人寒心").category == Category.COMPLAINT


def test_a_recognised_complaint_is_owned_by_a_supervisor_of_its_team(default_team, agent):
    other_team = TeamFactory(name="物流组")
    make_agent(teams=[other_team], role="supervisor")
    ours = make_agent(teams=[default_team], role="supervisor")

    ticket = complaint_ticket()

    complaint = Complaint.objects.get(ticket=ticket)
    assert ticket.category == Category.COMPLAINT
    assert complaint.source == ComplaintSource.TRIAGE
    assert complaint.owner_id == ours.user_id
    assert complaint.words == ["投诉", "态度太差"]


def test_owners_are_spread_over_the_supervisors_by_open_complaints(default_team):
    first = make_agent(teams=[default_team], role="supervisor")
    second = make_agent(teams=[default_team], role="supervisor")

    owners = [
        Complaint.objects.get(ticket=complaint_ticket(f"{COMPLAINT_TEXT} {n}")).owner_id
        for n in range(4)
    ]

    assert owners == [first.user_id, second.user_id, first.user_id, second.user_id]


def test_a_complaint_runs_on_the_complaint_sla_policy(default_team, supervisor):
    ticket = complaint_ticket()
    plain = Ticket.objects.get(pk=complaint_ticket("请问会员积分怎么用").pk)

    policies = set(
        SlaClock.objects.filter(subject_id=ticket.pk).values_list("policy__name", flat=True)
    )
    assert policies == {"投诉 Complaint"}
    assert "投诉 Complaint" not in set(
        SlaClock.objects.filter(subject_id=plain.pk).values_list("policy__name", flat=True)
    )
    assert not Complaint.objects.filter(ticket=plain).exists()


def test_an_urgent_complaint_keeps_the_urgent_policy_and_is_still_a_complaint(
    default_team, supervisor
):
    ticket = complaint_ticket("再不处理我就打12315投诉")

    assert ticket.tier == "urgent"
    assert ticket.category == Category.COMPLAINT
    assert Complaint.objects.filter(ticket=ticket).exists()
    assert set(
        SlaClock.objects.filter(subject_id=ticket.pk).values_list("policy__name", flat=True)
    ) == {"紧急 Urgent"}
