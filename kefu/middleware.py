"""Kefu's own middleware: the proxy's headers, and the language.

Language selection: the one picked with the switcher (stored in the language cookie), else
the browser's Accept-Language on a first visit (any Chinese as zh-Hans: zh, zh-CN, zh-Hans,
zh-SG, and the traditional variants, closer to Simplified Chinese than to English), else
LANGUAGE_CODE (zh-Hans). Kefu is Chinese first: a browser asking only for a language Kefu
does not have gets Chinese, and the switcher's choice always wins over the browser.
"""

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen in self.supported:
            language = chosen
        else:
            language = browser_language(request.headers.get("Accept-Language", ""))
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie", "Accept-Language"])
        response.headers.setdefault("Content-Language", language)
        return response


def browser_language(header: str) -> str:
    """The first language of an Accept-Language header that Kefu speaks, by the browser's
    order of preference; LANGUAGE_CODE when none is."""
    supported = {code for code, _name in settings.LANGUAGES}
    for tag, _quality in parse_accept_lang_header(header[:500]):
        primary = tag.lower().split("-")[0]
        if primary == "zh" and "zh-hans" in supported:
            return "zh-hans"
        if tag.lower() in supported:
            return tag.lower()
        if primary in supported:
            return primary
    return settings.LANGUAGE_CODE


def peer_is_trusted_proxy(remote_addr: str) -> bool:
    """Whether the connection's peer is one of KEFU_TRUSTED_PROXIES (addresses or networks)."""
    try:
        peer = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(
        peer in network for network in _trusted_networks(tuple(settings.KEFU_TRUSTED_PROXIES))
    )


@lru_cache(maxsize=4)
def _trusted_networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


class ProxyHeadersMiddleware:
    """X-Forwarded-Proto says whether the client spoke HTTPS to the proxy; Django believes it
    (SECURE_PROXY_SSL_HEADER), so it is dropped from any request whose peer is not a trusted
    proxy: a client talking to Kefu directly cannot claim HTTPS it did not use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "HTTP_X_FORWARDED_PROTO" in request.META and not peer_is_trusted_proxy(
            request.META.get("REMOTE_ADDR", "")
        ):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)
