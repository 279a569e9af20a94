"""Phone calls in the agent workspace: a call's page, and creating the caller as a customer."""

import logging
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.roles import Role, role_required
from tickets import selectors
from tickets.identity import mask_phone
from tickets.models import Call
from tickets.services.calls import call_customer_create

logger = logging.getLogger("kefu.tickets.calls")


class CallerForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)


def _call_or_404(request: HttpRequest, pk: int) -> Call:
    call = selectors.call_for(request.user, pk)
    if call is None:
        raise Http404(_("No such call"))
    return call


@require_GET
@role_required(Role.AGENT)
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The screen pop's link: the call, who is calling (masked), and their open tickets."""
    call = _call_or_404(request, pk)
    customer = call.customer
    number = call.customer_number
    return render(
        request,
        "agent/call.html",
        {
            "call": call,
            "customer": customer,
            # Masked like every contact on the agent's pages (a withheld id is shown as sent).
            "phone": mask_phone(number) if number.startswith("+") else number,
            "contacts": selectors.customer_contacts_masked(customer) if customer else [],
            # A ticket of another team shows its number, status and team only.
            "open_tickets": (
                selectors.customer_tickets_for(
                    customer=customer, viewer=request.user, only_open=True
                )
                if customer
                else []
            ),
            "recent_calls": (
                customer.calls.exclude(pk=call.pk).select_related("answered_by__user")[:10]
                if customer
                else []
            ),
            "caller_form": CallerForm(),
            "can_create": customer is None and call.customer_number.startswith("+"),
        },
    )


@require_POST
@role_required(Role.AGENT)
def call_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """Create the customer behind an unknown caller's number (or find who has it by now)."""
    call = _call_or_404(request, pk)
    form = CallerForm(request.POST)
    if not form.is_valid():
        logger.warning("refused customer creation from call %s: %s", call.pk, form.errors.as_json())
        return HttpResponseBadRequest(_("The name is too long (at most 200 characters)."))
    try:
        customer = call_customer_create(
            call=call, name=form.cleaned_data["name"], actor=cast(User, request.user)
        )
    except ValidationError as error:
        logger.warning("refused customer creation from call %s: %s", call.pk, error.messages)
        return HttpResponseBadRequest(" ".join(error.messages))
    messages.success(request, _("Customer %(name)s saved.") % {"name": customer})
    return redirect("tickets:call", pk=call.pk)
