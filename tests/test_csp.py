"""A strict Content-Security-Policy on Kefu's pages, and templates that can live under it."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import intake
from tickets.views.portal import SESSION_KEY

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _policy(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    header = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def _assert_strict(response) -> None:  # type: ignore[no-untyped-def]
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    everything = " ".join(source for sources in policy.values() for source in sources)
    assert "'unsafe-inline'" not in everything
    assert "'unsafe-eval'" not in everything
    assert "*" not in everything


@pytest.mark.django_db
def test_agent_pages_and_their_fragments_send_a_strict_policy(agent_client):
    ticket = intake(user_id="u1").ticket

    for path in ["/", "/queue/rows/", "/notifications/", f"/tickets/{ticket.number}/"]:
        response = agent_client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response)
    _assert_strict(agent_client.get(f"/tickets/{ticket.number}/live/"))


@pytest.mark.django_db
def test_the_board_sends_a_strict_policy(client, supervisor):
    client.force_login(supervisor.user)

    for path in ["/board/", "/board/live/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response)


@pytest.mark.django_db
def test_the_customer_status_pages_and_the_sign_in_page_send_a_strict_policy(client):
    ticket = intake(phone="13800138000", user_id="u1").ticket
    session = client.session
    session[SESSION_KEY] = ticket.customer_id
    session.save()

    for path in ["/status/", "/status/home/", f"/status/t/{ticket.number}/", "/accounts/login/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_strict(response)


# What a page under the policy cannot have: a script element with content (or without src),
# an event handler attribute, a javascript: URL, a style element or attribute.
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_FORBIDDEN = [
    (re.compile(r"\son[a-z]+\s*=", re.IGNORECASE), "event handler attribute"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
    (re.compile(r"<style\b", re.IGNORECASE), "style element"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style attribute"),
]


def _inline_findings(text: str) -> list[str]:
    findings = []
    for match in _SCRIPT.finditer(text):
        attributes, content = match.groups()
        if content.strip() or not re.search(r"\ssrc\s*=", attributes):
            findings.append(f"inline script: {match.group(0)[:60]!r}")
    for pattern, what in _FORBIDDEN:
        findings.extend(f"{what}: {m.group(0)!r}" for m in pattern.finditer(text))
    return findings


def test_the_inline_check_finds_what_the_policy_would_refuse():
    assert _inline_findings('<script src="/static/kefu/live.js" defer></script>') == []
    assert _inline_findings('<select name="language" data-autosubmit>') == []
    assert len(_inline_findings("<script>\nkefu.socket();\n</script>")) == 1
    assert len(_inline_findings('<script type="module">import x from "y"</script>')) == 1
    assert len(_inline_findings('<select onchange="this.form.submit()">')) == 1
    assert len(_inline_findings("<button\n  onClick='go()'>")) == 1
    assert len(_inline_findings('<a href="javascript:void(0)">')) == 1
    assert len(_inline_findings('<p style="color: red">')) == 1
    assert len(_inline_findings("<style>p { color: red }</style>")) == 1


def test_no_template_has_inline_script_style_or_event_handlers():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20  # the scan looks where the templates are

    findings = [
        f"{path.relative_to(TEMPLATES)}: {finding}"
        for path in templates
        for finding in _inline_findings(path.read_text(encoding="utf-8"))
    ]

    assert findings == []


@pytest.mark.django_db
def test_the_providers_webhooks_answer_without_a_page_policy(client):
    """TwiML, JSON and plain answers go to a provider's server, not a browser."""
    for path in ("/webhooks/sms/twilio/", "/webhooks/sms/twilio/status/"):
        response = client.post(path, {"From": "+8613800138000"})
        assert response.status_code == 403  # unsigned
        assert "Content-Security-Policy" not in response.headers
    page = client.get("/accounts/login/")
    assert "Content-Security-Policy" in page.headers
