"""Customer self-service: look up a ticket with a one-time code sent to its phone or email."""

import hashlib
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from tickets import selectors
from tickets.models import Ticket
from tickets.services import portal

SESSION_KEY = "kefu_status_tickets"


class LookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Ticket number"), max_length=32)
    contact = forms.CharField(label=gettext_lazy("Phone or email"), max_length=254)


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=12)


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "portal/rate_limited.html", status=429)


def code_request_key(group: str, request: HttpRequest) -> str:
    """The ticket number and contact a code is asked for, whether or not they match: the
    customer is told "too many codes" for a pair asked for too often, and since matching
    and non-matching pairs are counted alike, that message reveals nothing. (Codes actually
    sent are capped in the database per ticket and per contact, see
    `portal.status_code_request`.)"""
    number = request.POST.get("number", "").strip()
    contact = request.POST.get("contact", "")
    identity = portal.status_contact_normalise(contact)
    value = identity[1] if identity is not None else contact.strip().lower()
    return hashlib.sha256(f"{number}\n{value}".encode()).hexdigest()


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=lambda group, request: settings.STATUS_RATE_LIMIT, method="POST")
@ratelimit(
    group="portal.codes.hour",
    key=code_request_key,
    rate=lambda group, request: f"{settings.STATUS_CODES_PER_HOUR}/h",
    method="POST",
    block=False,
)
@ratelimit(
    group="portal.codes.day",
    key=code_request_key,
    rate=lambda group, request: f"{settings.STATUS_CODES_PER_DAY}/d",
    method="POST",
    block=False,
)
def status_lookup(request: HttpRequest) -> HttpResponse:
    error = ""
    status = 200
    if request.method == "POST":
        form = LookupForm(request.POST)
        if form.is_valid() and getattr(request, "limited", False):
            error = _(
                "Too many codes have been requested for this ticket and contact. Use the "
                "last code you received, or try again later."
            )
            status = 429
        elif form.is_valid():
            number = form.cleaned_data["number"].strip()
            portal.status_code_request(number=number, contact=form.cleaned_data["contact"])
            # The same answer whether or not the ticket and the contact matched.
            request.session["kefu_status_number"] = number
            return redirect("portal:verify")
    else:
        form = LookupForm()
    return render(request, "portal/lookup.html", {"form": form, "error": error}, status=status)


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=lambda group, request: settings.STATUS_RATE_LIMIT, method="POST")
def status_verify(request: HttpRequest) -> HttpResponse:
    number = request.session.get("kefu_status_number")
    if not number:
        return redirect("portal:lookup")
    error = ""
    status = 200
    if request.method == "POST":
        form = CodeForm(request.POST)
        check = None
        if form.is_valid():
            check = portal.status_code_verify(number=number, code=form.cleaned_data["code"])
            if check.ticket is not None:
                allowed = set(request.session.get(SESSION_KEY, []))
                allowed.add(check.ticket.pk)
                request.session[SESSION_KEY] = sorted(allowed)
                request.session.cycle_key()
                return redirect("portal:ticket", number=check.ticket.number)
        if check is not None and check.outcome == portal.CodeOutcome.LOCKED:
            error = _(
                "Too many wrong codes for this ticket. For your security, please wait an "
                "hour, then ask for a new code."
            )
            status = 429
        else:
            error = _("That code is wrong or has expired. Ask for a new one if needed.")
    else:
        form = CodeForm()
    return render(
        request,
        "portal/verify.html",
        {"form": form, "number": number, "error": error},
        status=status,
    )


class PortalMessageForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Made when the page is drawn: a double submit of the same form is one message.
    token = forms.UUIDField(widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=lambda group, request: settings.STATUS_RATE_LIMIT, method="POST")
def status_ticket(request: HttpRequest, number: str) -> HttpResponse:
    allowed = request.session.get(SESSION_KEY, [])
    ticket = Ticket.objects.filter(number=number, pk__in=allowed).first()
    if ticket is None:
        raise Http404(_("No such ticket"))
    if request.method == "POST" and ticket.is_open:
        form = PortalMessageForm(request.POST)
        if form.is_valid():
            try:
                portal.portal_message(
                    ticket=ticket,
                    text=form.cleaned_data["text"],
                    token=str(form.cleaned_data["token"]),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("portal:ticket", number=ticket.number)
    else:
        form = PortalMessageForm(initial={"token": uuid.uuid4()})
    return render(
        request,
        "portal/ticket.html",
        {
            "ticket": ticket,
            "messages_public": selectors.public_messages(ticket=ticket),
            "form": form,
        },
    )
