"""Quality inspection in Chromium: a named reviewer scores a sampled ticket beside its
conversation (the pre-check finding shown by the message it points at), the agent appeals,
and the supervisor upholds the appeal; the score moves with a record."""

from typing import Any

import pytest

from feedback.models import AppealStatus, Review, Sample
from feedback.services.quality_settings import reviewer_name
from feedback.services.sampling import sample_draw
from tests.browser.helpers import PHONE_VIEWPORT, Watched, _orm, _sign_in
from tests.factories import TeamFactory, make_agent
from tests.feedback.factories import WEEK, at, conversation, rule_for

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ENGLISH = {"locale": "en-US"}


def _in_english(watched: Watched, base: str) -> Watched:
    """The pages in English (the language switcher's cookie), so the test reads its labels."""
    watched.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    return watched


@pytest.fixture
def sampled():  # type: ignore[no-untyped-def]
    # Made before the browser starts (Playwright's loop would refuse the ORM in this thread).
    team = TeamFactory(name="客服一组", is_default=True)
    agent = make_agent(teams=[team])
    supervisor = make_agent(teams=[team], role="supervisor")
    reviewer = make_agent(teams=[team])
    reviewer_name(user=reviewer.user, actor=supervisor.user)
    ticket = conversation(
        agent=agent,
        turns=[
            ("in", "我的快递到哪了？电话13812345678", at(1, 10)),
            ("out", "单号发我。", at(1, 10, 2)),
        ],
        user_id="browser-quality",
    )
    rule_for(team, random_percent=100)
    [sample] = sample_draw(week=WEEK)
    return {
        "agent": agent.user.username,
        "supervisor": supervisor.user.username,
        "reviewer": reviewer.user.username,
        "ticket": ticket.number,
        "sample": sample.pk,
    }


def _rate_everything_met_but_the_greeting(page: Any) -> None:
    selects = page.locator("select[name^=rating_]")
    for index in range(selects.count()):
        selects.nth(index).select_option("met")
    greeting = page.locator(".quality-item", has_text="Proper greeting").locator("select")
    greeting.select_option("missed")
    page.locator(".quality-item", has_text="Proper greeting").locator("input").fill(
        "No greeting at all."
    )


def test_a_reviewer_scores_the_agent_appeals_and_the_supervisor_upholds(
    sampled, live_asgi, browser
):  # type: ignore[no-untyped-def]
    base = live_asgi

    # The named reviewer: the sample list, then the workspace.
    reviewer = _in_english(Watched(browser, **ENGLISH), base)
    page = reviewer.page()
    _sign_in(page, base, sampled["reviewer"])
    page.goto(f"{base}/quality/")
    expect(page).to_have_url(f"{base}/quality/samples/")
    page.get_by_role("link", name=sampled["ticket"]).click()
    expect(page).to_have_url(f"{base}/quality/samples/{sampled['sample']}/")
    reply = page.locator(".quality-conversation .msg.dir-out")
    expect(reply.locator(".quality-hits")).to_contain_text("No greeting in the first reply")
    # The customer's phone number is masked in the conversation.
    expect(page.locator(".quality-conversation")).to_contain_text("138****5678")
    expect(page.locator(".quality-conversation")).not_to_contain_text("13812345678")
    _rate_everything_met_but_the_greeting(page)
    expect(page.locator("[data-quality-total]")).to_have_text("90.0")
    page.get_by_role("button", name="Submit the review").click()
    expect(page.locator(".quality-result h2")).to_contain_text("90.0")
    reviewer.assert_clean(page)
    reviewer.context.close()

    # The agent, on a phone: their reviews, the appeal.
    agent = _in_english(Watched(browser, **{**PHONE_VIEWPORT, **ENGLISH}), base)
    page = agent.page()
    _sign_in(page, base, sampled["agent"])
    page.goto(f"{base}/quality/reviews/mine/")
    expect(page.locator("table")).to_contain_text("Waiting for your answer")
    page.get_by_role("link", name=sampled["ticket"]).click()
    page.get_by_label("Why you appeal").fill("I greeted the customer on the phone first.")
    page.get_by_role("button", name="Appeal", exact=True).click()
    expect(page.locator(".quality-appeal h2")).to_contain_text("Waiting for a decision")
    agent.assert_clean(page)

    # The supervisor: the open appeal, upheld with the greeting met.
    supervisor = _in_english(Watched(browser, **ENGLISH), base)
    desk = supervisor.page()
    _sign_in(desk, base, sampled["supervisor"])
    desk.goto(f"{base}/quality/appeals/")
    desk.get_by_role("link", name=sampled["ticket"]).click()
    desk.get_by_label("Proper greeting").select_option("met")
    desk.get_by_label("Uphold").check()
    desk.get_by_label("Note").fill("The call log shows the greeting.")
    desk.get_by_role("button", name="Record the decision").click()
    expect(desk.locator(".quality-result h2")).to_contain_text("100.0")
    expect(desk.locator(".quality-appeal")).to_contain_text("90.0 → 100.0")
    supervisor.assert_clean(desk)
    supervisor.context.close()

    # Back to the agent: the decision and the new score.
    page.reload()
    expect(page.locator(".quality-appeal h2")).to_contain_text("Upheld")
    expect(page.locator(".quality-result h2")).to_contain_text("100.0")
    agent.assert_clean(page)
    agent.context.close()

    review = _orm(lambda: Review.objects.select_related("appeal").get())
    assert str(review.score) == "100.0"
    assert review.appeal.status == AppealStatus.UPHELD
    assert _orm(lambda: Sample.objects.count()) == 1
