"""The optional second sign-in factor: a TOTP authenticator app (django-otp) that supervisors
and admins turn on for themselves. Agents never see it.

A user has the second factor when they hold a confirmed TOTP device. A device is created
unconfirmed when the setup page is first shown and confirmed by the first right code, so a
scanned-but-never-confirmed secret never locks anyone out.
"""

import math
from base64 import b32encode
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from kefu.roles import Role, role_required

DEVICE_NAME = "authenticator"


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from the app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6-digit code the app shows.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "8"}
        ),
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


def confirmed_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed authenticator, or None when the second factor is off."""
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def session_is_verified(request: HttpRequest) -> bool:
    """True when the signed-in user has no second factor, or this session passed it."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return True
    return confirmed_device(user) is None


def code_wait_seconds(*, user: Any) -> int:
    """How long django-otp still refuses codes for the user's device after wrong ones (it
    doubles the wait with each); 0 when a code may be tried now."""
    device = confirmed_device(user)
    if device is None:
        return 0
    allowed, details = device.verify_is_allowed()
    if allowed or not details or not details.get("locked_until"):
        return 0
    return max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))


def code_check(*, user: Any, code: str) -> TOTPDevice | None:
    """The confirmed device that accepts `code`, or None. django-otp throttles a device after
    wrong codes and refuses a code already used."""
    device = confirmed_device(user)
    if device is None:
        return None
    verified = verify_token(user, device.persistent_id, code)
    return verified if isinstance(verified, TOTPDevice) else None


def device_pending(*, user: Any) -> TOTPDevice:
    """The unconfirmed device the setup page shows, made on first use and kept until
    confirmed, so reloading the page does not change the secret already scanned."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def device_confirm(*, request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Turns the second factor on when `code` is right for the pending device; this session
    counts as verified from then on."""
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not locked.verify_token(code):
            return False
        locked.confirmed = True
        locked.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=locked.user, confirmed=False).delete()
    otp_login(request, locked)
    return True


def devices_remove(*, user: Any) -> None:
    TOTPDevice.objects.filter(user=user).delete()


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// address as an inline SVG QR code: drawn here, not by a script, so the
    page stays under the strict Content-Security-Policy."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    svg = image.to_string(encoding="unicode")
    # The markup is qrcode's own path drawing; the address is only encoded in its shape.
    return mark_safe(str(svg).replace('width="', 'class="qr" width="', 1))  # noqa: S308


@never_cache
@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def setup(request: HttpRequest) -> HttpResponse:
    """Turn the authenticator on (scan, then confirm with a code) or off (with a code)."""
    device = confirmed_device(request.user)
    form = CodeForm(request.POST or None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            if code_check(user=request.user, code=form.cleaned_data["code"]) is not None:
                devices_remove(user=request.user)
                messages.success(request, _("Two-step sign-in is off."))
                return redirect("two-factor")
            form.add_error("code", _("That code is not right. Wait for a new one and try again."))
        return render(request, "registration/two_factor.html", {"enabled": True, "form": form})

    pending = device_pending(user=request.user)
    if request.method == "POST" and form.is_valid():
        if device_confirm(request=request, device=pending, code=form.cleaned_data["code"]):
            messages.success(request, _("Two-step sign-in is on."))
            return redirect("two-factor")
        form.add_error("code", _("That code is not right. Wait for a new one and try again."))
    context = {
        "enabled": False,
        "form": form,
        "qr_svg": qr_svg(pending),
        "secret": secret_text(pending),
    }
    return render(request, "registration/two_factor.html", context)
