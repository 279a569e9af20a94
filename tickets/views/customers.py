"""The customer page (supervisors): contact details masked, tickets, the export of
everything held about the customer and, for admins, erasure on request; merging duplicate
customer records, and undoing merges."""

import tempfile
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.roles import Role, role_required
from tickets import selectors
from tickets.models import Customer, CustomerMerge, Ticket
from tickets.services import customers, privacy


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_POST
@role_required(Role.SUPERVISOR)
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge another customer (by id, or the customer of a ticket number) into this one."""
    return _merge_into(request, pk)


def _merge_into(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(Customer, pk=pk)
    source: Customer | None = None
    if request.POST.get("source", "").isdigit():
        source = Customer.objects.filter(pk=int(request.POST["source"])).first()
    elif request.POST.get("ticket", "").strip():
        ticket = Ticket.objects.filter(number=request.POST["ticket"].strip()).first()
        source = ticket.customer if ticket else None
    if source is None:
        messages.error(request, _("No such customer or ticket."))
        return _back(request, "tickets:merges")
    try:
        customers.customer_merge(
            source=source,
            target=target,
            actor=cast(User, request.user),
            reason=request.POST.get("reason", ""),
        )
    except customers.MergeRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            _("Customer %(source)s was merged into %(target)s; the merges page can undo it.")
            % {"source": source, "target": target},
        )
    return _back(request, "tickets:merges")


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR)
def merges(request: HttpRequest) -> HttpResponse:
    """The merge log with undo; a POST merges by ticket numbers (keep the customer of
    `into_ticket`, merge in the customer of `ticket`)."""
    if request.method == "POST":
        into = Ticket.objects.filter(number=request.POST.get("into_ticket", "").strip()).first()
        if into is None:
            messages.error(request, _("No such customer or ticket."))
            return redirect("tickets:merges")
        return _merge_into(request, into.customer_id)
    return render(request, "agent/merges.html", {"merges": selectors.merges_recent()})


@require_POST
@role_required(Role.SUPERVISOR)
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = CustomerMerge.objects.filter(pk=pk).first()
    if merge is None:
        raise Http404
    try:
        customers.customer_merge_undo(merge=merge, actor=cast(User, request.user))
    except customers.MergeRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("The merge was undone."))
    return redirect("tickets:merges")


@require_http_methods(["GET"])
@role_required(Role.SUPERVISOR)
def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=pk)
    return render(
        request,
        "agent/customer.html",
        {
            "customer": customer,
            "contacts": selectors.customer_contacts_masked(customer),
            "tickets": customer.tickets.order_by("-created_at")[:50],
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def customer_export_download(request: HttpRequest, pk: int) -> FileResponse:
    """Everything Kefu holds about the customer, as a zip download; audited."""
    customer = get_object_or_404(Customer, pk=pk)
    # On disk rather than in memory: attachments can make the archive large.
    archive = tempfile.TemporaryFile()
    privacy.customer_export(
        customer=customer, actor=cast(User, request.user), destination=archive, via="page"
    )
    archive.seek(0)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"kefu-customer-{customer.pk}.zip",
        content_type="application/zip",
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.ADMIN)
def customer_erase_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Erase the customer on request (admins): a GET shows what will go and asks to type the
    customer's id; the POST with that id erases. Audited."""
    customer = get_object_or_404(Customer, pk=pk)
    context = {"customer": customer, "tickets": customer.tickets.count(), "error": ""}
    if request.method == "GET":
        return render(request, "agent/customer_erase.html", context)
    if request.POST.get("confirm", "").strip() != str(customer.pk):
        context["error"] = _("Type the customer's number to confirm.")
        return render(request, "agent/customer_erase.html", context, status=400)
    try:
        privacy.customer_erase(customer=customer, actor=cast(User, request.user), via="page")
    except privacy.PrivacyRefused as refused:
        context["error"] = str(refused)
        return render(request, "agent/customer_erase.html", context, status=409)
    messages.success(request, _("The customer's personal data was erased."))
    return redirect("tickets:customer", pk=customer.pk)
