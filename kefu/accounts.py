"""Staff sign-in: the password step (staff page and admin site alike), the second step for
users with an authenticator (kefu.two_factor), and what django-axes needs from Kefu (the
client address, the lockout page).

A user with an authenticator is not signed in after the password: the session only
remembers, for a few minutes, who passed it. Only the right code signs them in, so no page
has to ask whether its user finished the second step.
"""

import time
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from kefu import two_factor
from kefu.client_ip import client_ip

# Who passed the password step and is yet to give a code: {"user", "backend", "next", "at"}.
PENDING_SESSION_KEY = "kefu_login_pending"
PENDING_SECONDS = 300


def client_address(request: HttpRequest) -> str | None:
    """The address sign-in failures are counted against: the client's, behind a trusted
    proxy too (kefu/client_ip.py)."""
    return client_ip(request) or None


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The page django-axes shows instead of a sign-in while the username and address are
    locked out: translated, under the site's layout, status 429."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    request.session.pop(PENDING_SESSION_KEY, None)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


def _pending_start(request: HttpRequest, *, user: Any, next_url: str) -> None:
    request.session[PENDING_SESSION_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": time.time(),
    }


def _pending_user(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    pending = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        return None
    return user, pending


class LoginView(auth_views.LoginView):
    """The password step, for the staff page and the admin site: users with an authenticator
    go on to the code step instead of being signed in."""

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if two_factor.confirmed_device(user) is None:
            return super().form_valid(form)
        _pending_start(self.request, user=user, next_url=self.get_success_url())
        return redirect("login-verify")


@never_cache
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """The code step. Wrong codes count as failed sign-ins for django-axes, like wrong
    passwords, and django-otp throttles the device as well."""
    found = _pending_user(request)
    if found is None:
        return redirect(settings.LOGIN_URL)
    user, pending = found
    credentials = {"username": user.get_username()}
    form = two_factor.CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, credentials):
            return lockout_response(request)
        wait = two_factor.code_wait_seconds(user=user)
        if wait:
            # Not a failure of its own: the code was not even looked at.
            form.add_error(
                "code",
                ngettext(
                    "Too many wrong codes. Try again in %(seconds)d second.",
                    "Too many wrong codes. Try again in %(seconds)d seconds.",
                    wait,
                )
                % {"seconds": wait},
            )
            return render(request, "registration/login_verify.html", {"form": form})
        device = two_factor.code_check(user=user, code=form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_SESSION_KEY]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return HttpResponseRedirect(pending["next"])
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        form.add_error("code", _("That code is not right. Wait for a new one and try again."))
    return render(request, "registration/login_verify.html", {"form": form})
