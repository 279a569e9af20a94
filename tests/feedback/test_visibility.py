"""Who sees and does what: supervisors and named reviewers review; an agent sees only the
reviews of their own work (404 on another's); the ticket page's quality card shows to
supervisors and the reviewed agent only; every page refuses anonymous users and staff
without the role."""

import pytest

from feedback.models import Reviewer, Sample
from feedback.services.quality_settings import reviewer_name
from feedback.services.scorecards import scorecard_default
from tests.factories import TeamFactory, UserFactory, make_agent
from tests.feedback.factories import WEEK, at, conversation, review

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(default_team, agent, supervisor):  # type: ignore[no-untyped-def]
    ticket = conversation(
        agent=agent, turns=[("in", "你好", at(0, 10)), ("out", "在的", at(0, 10, 5))]
    )
    sample = Sample.objects.create(
        week=WEEK, ticket=ticket, team=default_team, agent=agent, scorecard=scorecard_default()
    )
    return review(ticket=ticket, agent=agent, reviewer=supervisor.user), sample


REVIEWER_PAGES = ["/quality/samples/", "/quality/samples/{sample}/"]
SUPERVISOR_PAGES = [
    "/quality/appeals/",
    "/quality/calibration/",
    "/quality/scorecards/",
    "/quality/scorecards/new/",
    "/quality/settings/",
]


def pages(reviewed):  # type: ignore[no-untyped-def]
    review_row, sample = reviewed
    return [
        page.format(sample=sample.pk)
        for page in [*REVIEWER_PAGES, *SUPERVISOR_PAGES, "/quality/", "/quality/reviews/mine/"]
    ] + [f"/quality/reviews/{review_row.pk}/"]


def test_anonymous_visitors_are_sent_to_sign_in(client, reviewed):
    for page in pages(reviewed):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/login/"), page


def test_a_signed_in_user_without_a_staff_role_is_refused(client, reviewed):
    customer_like = UserFactory()
    client.force_login(customer_like)
    for page in pages(reviewed):
        assert client.get(page).status_code == 403, page


def test_an_agent_is_refused_the_reviewer_and_supervisor_pages(client, reviewed, default_team):
    other = make_agent(teams=[default_team])
    client.force_login(other.user)
    _review_row, sample = reviewed
    for page in [*REVIEWER_PAGES, *SUPERVISOR_PAGES]:
        assert client.get(page.format(sample=sample.pk)).status_code == 403, page
    assert client.post(f"/quality/samples/{sample.pk}/", {}).status_code == 403
    assert client.post("/quality/samples/draw/", {}).status_code == 403


def test_an_agent_never_sees_another_agents_review(client, reviewed, default_team):
    review_row, _sample = reviewed
    other_team = TeamFactory()
    for stranger in (make_agent(teams=[default_team]), make_agent(teams=[other_team])):
        client.force_login(stranger.user)
        assert client.get(f"/quality/reviews/{review_row.pk}/").status_code == 404
        assert (
            client.post(f"/quality/reviews/{review_row.pk}/appeal/", {"reason": "x"}).status_code
            == 404
        )
        assert client.post(f"/quality/reviews/{review_row.pk}/acknowledge/").status_code == 404
        assert review_row.ticket.number not in client.get("/quality/reviews/mine/").content.decode()


def test_the_reviewed_agent_sees_their_review_and_their_list(client, reviewed, agent):
    review_row, _sample = reviewed
    client.force_login(agent.user)
    assert client.get(f"/quality/reviews/{review_row.pk}/").status_code == 200
    assert review_row.ticket.number in client.get("/quality/reviews/mine/").content.decode()
    assert client.get("/quality/").headers["Location"] == "/quality/reviews/mine/"


def test_a_named_reviewer_reviews_others_but_not_their_own_tickets(
    client, reviewed, default_team, supervisor
):
    _review, sample = reviewed
    named = make_agent(teams=[default_team])
    reviewer_name(user=named.user, actor=supervisor.user)
    client.force_login(named.user)
    assert client.get("/quality/").headers["Location"] == "/quality/samples/"
    assert client.get(f"/quality/samples/{sample.pk}/").status_code == 200
    # The reviewed agent named reviewer still may not review their own ticket.
    reviewer_name(user=sample.agent.user, actor=supervisor.user)
    client.force_login(sample.agent.user)
    assert client.get(f"/quality/samples/{sample.pk}/").status_code == 404
    assert Reviewer.objects.count() == 2
    # Supervisor pages stay closed to named reviewers.
    client.force_login(named.user)
    assert client.get("/quality/settings/").status_code == 403


def test_the_ticket_page_shows_the_review_to_supervisors_and_the_reviewed_agent_only(
    client, reviewed, agent, supervisor, default_team
):
    review_row, _sample = reviewed
    url = f"/tickets/{review_row.ticket.number}/"
    client.force_login(supervisor.user)
    assert 'id="quality-reviews"' in client.get(url).content.decode()
    client.force_login(agent.user)
    assert 'id="quality-reviews"' in client.get(url).content.decode()
    teammate = make_agent(teams=[default_team])
    client.force_login(teammate.user)
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="quality-reviews"' not in page.content.decode()
