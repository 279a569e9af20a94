"""Customer self-service: a customer names one of their tickets or orders, proves who they
are with a one-time code sent to their phone or email, and then sees all their tickets and
what the apps above the core add (tickets.hooks.portal_sections)."""

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

from tickets import hooks, selectors
from tickets.files import files_prepare
from tickets.models import Ticket
from tickets.portal import (
    NUMBER_SESSION_KEY,
    SESSION_KEY,
    portal_customer,
    portal_sign_in,
    portal_sign_out,
)
from tickets.services import portal

__all__ = ["SESSION_KEY", "portal_customer"]


class LookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Ticket or order number"), max_length=64)
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
            request.session[NUMBER_SESSION_KEY] = number
            return redirect("portal:verify")
    else:
        form = LookupForm()
    return render(
        request,
        "portal/lookup.html",
        {"form": form, "error": error, "customer": portal_customer(request)},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=lambda group, request: settings.STATUS_RATE_LIMIT, method="POST")
def status_verify(request: HttpRequest) -> HttpResponse:
    number = request.session.get(NUMBER_SESSION_KEY)
    if not number:
        return redirect("portal:lookup")
    error = ""
    status = 200
    if request.method == "POST":
        form = CodeForm(request.POST)
        check = None
        if form.is_valid():
            check = portal.status_code_verify(number=number, code=form.cleaned_data["code"])
            if check.customer is not None:
                portal_sign_in(request, check.customer)
                if check.ticket is not None:
                    answer = redirect("portal:ticket", number=check.ticket.number)
                else:
                    answer = redirect("portal:home")
                return _in_their_language(request, answer, check.customer.language)
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


def _in_their_language(request: HttpRequest, answer: HttpResponse, language: str) -> HttpResponse:
    """Show the pages in the customer's own language from now on, unless this browser chose
    one already (the language menu's cookie wins)."""
    if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        answer.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return answer


class PortalMessageForm(forms.Form):
    # Optional when photos or a PDF come with it (tickets.services.portal.portal_message).
    text = forms.CharField(
        label=gettext_lazy("Your message"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Made when the page is drawn: a double submit of the same form is one message.
    token = forms.UUIDField(widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
@ratelimit(key="ip", rate=lambda group, request: settings.STATUS_RATE_LIMIT, method="POST")
def status_ticket(request: HttpRequest, number: str) -> HttpResponse:
    customer = portal_customer(request)
    ticket = (
        Ticket.objects.filter(number=number, customer=customer).first()
        if customer is not None
        else None
    )
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
                    files=files_prepare(request.FILES.getlist("files")),
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
            "messages_public": selectors.public_messages(ticket=ticket).prefetch_related(
                "attachments"
            ),
            "form": form,
            "max_bytes": settings.KEFU_UPLOAD_MAX_BYTES,
        },
    )


@require_http_methods(["GET"])
def status_home(request: HttpRequest) -> HttpResponse:
    """The proven customer's page: their tickets, then what other apps show them."""
    customer = portal_customer(request)
    if customer is None:
        return redirect("portal:lookup")
    tickets = Ticket.objects.filter(customer=customer).order_by("-updated_at", "-pk")[:50]
    return render(
        request,
        "portal/home.html",
        {
            "customer": customer,
            "tickets": tickets,
            "sections": hooks.portal_sections(request, customer),
        },
    )


@require_http_methods(["POST"])
def status_sign_out(request: HttpRequest) -> HttpResponse:
    portal_sign_out(request)
    return redirect("portal:lookup")
