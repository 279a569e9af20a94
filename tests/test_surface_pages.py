"""The surface every visitor meets: error pages in the layout and the visitor's language,
the language menu, the browser's language on a first visit, the favicon, /sla/, the demo."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("zh", "zh-hans"),
        ("zh-TW", "zh-hans"),
        ("fr-FR,en;q=0.5", "en"),
        ("fr", "zh-hans"),
        ("", "zh-hans"),
    ],
)
def test_a_first_visit_speaks_the_browsers_language(client, header, expected):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=header)

    assert response["Content-Language"] == expected
    assert f'<html lang="{expected}">' in response.content.decode()
    assert "Accept-Language" in response["Vary"]


def test_the_language_chosen_in_the_menu_wins_over_the_browser(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en")

    assert response["Content-Language"] == "zh-hans"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_language_menu_names_each_language_in_itself(client, settings, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    page = client.get("/accounts/login/").content.decode()

    assert '<option value="zh-hans" lang="zh-hans"' in page
    assert ">简体中文</option>" in page and ">English</option>" in page
    assert "英语" not in page


@pytest.mark.parametrize(
    ("language", "title"), [("zh-hans", "找不到页面"), ("en", "Page not found")]
)
def test_the_404_page_is_in_the_layout_with_the_favicon(client, settings, language, title):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get("/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert title in page and 'class="top"' in page
    assert 'name="viewport"' in page
    assert 'rel="icon" href="/static/kefu/favicon.svg"' in page


def test_the_500_page_needs_no_context_processor(rf, settings):
    from kefu.views import server_error

    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"]}}
    ]
    settings.TEMPLATES[0]["OPTIONS"]["context_processors"] = ["no.such.processor"]

    from django.utils import translation

    with translation.override("zh-hans"):
        response = server_error(rf.get("/somewhere/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in page and "请求" in page
    assert 'rel="icon"' in page and 'class="top"' in page


def test_the_favicon_is_served_and_asked_for_at_the_usual_address(client):
    from django.contrib.staticfiles import finders

    assert finders.find("kefu/favicon.svg")
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/kefu/favicon.svg"


def test_sla_alone_leads_to_the_policies(client, supervisor):
    client.force_login(supervisor.user)

    response = client.get("/sla/")

    assert (response.status_code, response["Location"]) == (302, "/sla/policies/")


def test_the_demo_agent_sees_the_delivery_question_of_the_readme(settings):
    from tickets.models import Agent, Department

    settings.EMBEDDED = True
    call_command("seed_demo", force=True)

    agent = Agent.objects.get(user__username="agent")
    assert set(agent.teams.values_list("department", flat=True)) == {
        Department.CUSTOMER_SERVICE,
        Department.LOGISTICS,
    }
