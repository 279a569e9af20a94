"""The report pages read in Chinese, including the rules written out in full under a page's
title (a `%` in a translated template string is looked up as `%%`)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url, words",
    [
        ("/reports/quality/", "CSAT：评价（1–5 分）中 4 分或 5 分所占比例"),
        ("/reports/ranking/", "CSAT 为该客服当月工单的评价中 4 分或 5 分所占比例"),
    ],
)
def test_the_rules_under_the_title_are_in_chinese(client, settings, supervisor, url, words):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(supervisor.user)

    page = client.get(url).content.decode()

    assert words in page
    assert "the share of answers rated 4 or 5" not in page
