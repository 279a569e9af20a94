"""The demo shop page: the widget embedded as a shop would, signed on the server."""

import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from channels_ingest.chat.identity import sign_visitor
from channels_ingest.models import ChatSite

DEMO_SITE_KEY = "demo"
DEMO_USER = ("u2001", "陈静")
DEMO_SIGNATURE_SECONDS = 3600


@require_GET
def demo(request: HttpRequest) -> HttpResponse:
    """Only in embedded mode or with DEBUG: it signs a demo user for whoever asks."""
    if not (settings.EMBEDDED or settings.DEBUG):
        raise Http404
    site = ChatSite.objects.filter(key=DEMO_SITE_KEY, is_active=True).first()
    if site is None:
        raise Http404(_("No demo chat site: run `manage.py seed_demo_chat`."))
    is_anonymous = request.GET.get("as") == "anonymous"
    user_id, name = DEMO_USER
    expires = int(time.time()) + DEMO_SIGNATURE_SECONDS
    origin = request.build_absolute_uri("/").rstrip("/").lower()
    return render(
        request,
        "chat/demo.html",
        {
            "site": site,
            "is_anonymous": is_anonymous,
            "user_id": user_id,
            "name": name,
            "expires": expires,
            "signature": sign_visitor(
                secret=site.secret, site_key=site.key, user_id=user_id, expires=expires
            ),
            "origin": origin,
            "origin_allowed": origin in site.origins(),
        },
    )
