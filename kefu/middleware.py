"""Kefu's own middleware: the proxy's headers, and the language.

Language selection: zh-Hans unless the user chose otherwise.

Django's LocaleMiddleware follows the browser's Accept-Language, which on a shop floor is
often an English-language browser in front of a Chinese-speaking agent. Kefu is Chinese first:
the language is the one picked with the switcher (stored in the language cookie), else
LANGUAGE_CODE.
"""

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        patch_vary_headers(response, ["Cookie"])
        response.headers.setdefault("Content-Language", language)
        return response


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
