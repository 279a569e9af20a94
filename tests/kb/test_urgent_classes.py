"""The seeded urgency rules and settings in the database (kb/migrations/0003) recognise the
retailer's urgent classes, and VIP alone is not urgent."""

import pytest

from kb.models import RuleKind, TriageRule, TriageSettings
from kb.rules import DEFAULT_URGENCY_RULES
from kb.triage import config_cache, triage_text

pytestmark = pytest.mark.django_db


def test_the_database_holds_every_built_in_urgency_rule():
    seeded = dict(TriageRule.objects.filter(kind=RuleKind.URGENCY).values_list("code", "words"))
    assert seeded == dict(DEFAULT_URGENCY_RULES)


def test_the_seeded_settings_do_not_make_vip_urgent():
    assert TriageSettings.objects.get(pk=1).vip_is_urgent is False
    assert triage_text("你好，我想问一下发票", is_vip=True).is_urgent is False


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("支付系统故障，所有人都无法下单", "system_failure"),
        ("我的账号被盗了", "account_security"),
        ("the app charged me twice", "payment_failure"),
    ],
)
def test_the_seeded_rules_make_the_urgent_classes_urgent(text, rule):
    assert config_cache.get().urgency_rules  # read from the database, not the fallback
    triage = triage_text(text)

    assert triage.is_urgent
    assert rule in [reason["rule"] for reason in triage.reasons]
