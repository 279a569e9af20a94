"""A chat site's team answers the site's chats: the widget shows that team's availability and
hours, so its new tickets go there rather than where category routing would send them."""

import pytest

from channels_ingest.models import InboundRecord
from channels_ingest.pipeline.process import inbound_process
from tests.channels_ingest.chat.sockets import make_site
from tests.factories import TeamFactory, make_agent
from tickets.models import Department, RoutingRule, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def logistics(default_team):  # type: ignore[no-untyped-def]
    team = TeamFactory(name="物流", department=Department.LOGISTICS)
    RoutingRule.objects.create(category="logistics", team=team)
    make_agent(teams=[team])
    return team


def chat(site_key: str, text: str, number: int) -> Ticket:
    record = InboundRecord.objects.create(
        channel="chat",
        provider_id=f"frame-{number}",
        source="widget",
        payload={"frame": {"text": text}, "address": f"user-{number}", "site": site_key},
    )
    result = inbound_process(record=record)
    assert result is not None
    return result.ticket


def test_a_sites_team_gets_its_chats_whatever_the_category(logistics):
    desk = TeamFactory(name="Shop desk")
    agent = make_agent(teams=[desk])
    site = make_site(team=desk)

    ticket = chat(site.key, "快递三天了还没送到", 1)

    assert ticket.category == "logistics"  # routing would have sent it to logistics
    assert (ticket.team, ticket.assignee) == (desk, agent)


def test_a_site_without_a_team_leaves_it_to_routing(logistics):
    site = make_site(team=None)

    ticket = chat(site.key, "快递三天了还没送到", 2)

    assert ticket.team == logistics
