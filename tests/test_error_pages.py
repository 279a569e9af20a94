"""Kefu's own 404 and 403 pages: the site's layout and language, a way back."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_address_gets_a_page_not_found_in_chinese_first(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "客服 Kefu" in page and "找不到页面" in page
    assert 'href="/"' in page


def test_the_page_not_found_speaks_the_chosen_language(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_an_agent_on_a_supervisors_page_is_told_so_in_the_sites_layout(agent_client):
    response = agent_client.get("/outbox/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "无权访问" in page and "客服 Kefu" in page
