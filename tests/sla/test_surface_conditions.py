"""SLA policy conditions are edited with fields (tier, channel, team, category, VIP, tags),
stored as before, and listed with their labels."""

import pytest

from sla.models import SlaPolicy
from tests.sla.test_pages import policy_post

pytestmark = pytest.mark.django_db


def test_conditions_ticked_in_the_form_are_stored_as_the_policy_engine_reads_them(
    client, supervisor, default_team
):
    client.force_login(supervisor.user)
    data = policy_post(when_vip="", when_tags="b2b, 大客户")
    data.update(
        {
            "when_tier": ["urgent", "regular"],
            "when_channel": ["chat"],
            "when_team": [str(default_team.pk)],
            "when_category": ["logistics"],
        }
    )

    response = client.post("/sla/policies/new/", data)

    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="大客户 Key accounts")
    assert policy.conditions == {
        "tier": ["urgent", "regular"],
        "channel": ["chat"],
        "team": [default_team.pk],
        "category": ["logistics"],
        "tags": ["b2b", "大客户"],
    }


def test_the_editor_shows_a_policys_conditions_ticked_and_the_list_names_them(
    client, supervisor, settings
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(supervisor.user)
    client.post("/sla/policies/new/", policy_post(when_tier="urgent", when_channel="sms"))
    policy = SlaPolicy.objects.get(name="大客户 Key accounts")
    assert policy.conditions == {"tier": ["urgent"], "channel": ["sms"], "vip": True}

    form = client.get(f"/sla/policies/{policy.pk}/").content.decode()
    listing = client.get("/sla/policies/").content.decode()

    assert 'name="when_tier" value="urgent" id="id_when_tier_0" checked' in form
    assert 'name="conditions"' not in form
    assert "级别: 紧急" in listing
    assert "短信" in listing and "仅 VIP" in listing
    assert '{"tier"' not in listing and "&#x27;tier&#x27;" not in listing
