"""The agent workspace: the queue and the ticket page."""

import uuid
from datetime import datetime
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from kefu.roles import Role, has_role, role_required
from sla.selectors import clocks_for_subject
from tickets import hooks, selectors
from tickets.filters import TicketFilters
from tickets.masking import mask_text
from tickets.models import Agent, Attachment, Message, Status, Ticket
from tickets.services import customers, delivery, reply_guard, workflow
from tickets.services.notifications import notification_mark_read
from tickets.services.reply_guard import ReplyOvertaken
from tickets.tiers import Tier
from tickets.views import search as search_views
from tickets.views.actions import ticket_restricted


class HtmxHttpRequest(HttpRequest):
    # Set by django_htmx's middleware on every request.
    htmx: HtmxDetails


def _queue_context(request: HttpRequest) -> dict[str, object]:
    view = request.GET.get("view", "team")
    if view not in selectors.QUEUE_VIEWS:
        view = "team"
    # Filters, sort by any column and saved views (tickets/views/search.py).
    query = search_views.queue_query_context(request, view)
    after = request.GET.get("after", "")
    page = selectors.queue_page(
        user=request.user,
        view=view,
        sort=str(query["sort"]),
        cursor=after,
        filters=cast(TicketFilters, query["filters"]),
    )
    return {"page": page, "view": view, "after": after, **query}


@require_GET
@role_required(Role.AGENT)
def queue(request: HttpRequest) -> HttpResponse:
    context = _queue_context(request)
    return render(
        request,
        "agent/queue.html",
        {
            **context,
            **search_views.queue_sidebar_context(request, cast(TicketFilters, context["filters"])),
            "notifications": selectors.notifications_unread(user=request.user),
            "fresh": set(),
            # Notifications delivered after this are new to the page: the list marks them.
            "rendered_at": timezone.now().isoformat(),
        },
    )


@require_GET
@role_required(Role.AGENT)
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's table body, fetched by the page (htmx) when a websocket event arrives."""
    return render(request, "agent/_queue_rows.html", _queue_context(request))


@require_GET
@role_required(Role.AGENT)
def notifications(request: HttpRequest) -> HttpResponse:
    """The queue page's notification list, fetched when a notification event arrives; those
    delivered after `fresh_after` (when the page was drawn) are marked new."""
    unread = selectors.notifications_unread(user=request.user)
    try:
        fresh_after = datetime.fromisoformat(request.GET.get("fresh_after", ""))
    except ValueError:
        fresh_after = None
    if fresh_after is not None and timezone.is_naive(fresh_after):
        fresh_after = None
    fresh = {
        item.pk
        for item in unread
        if fresh_after is not None and item.delivered_at and item.delivered_at > fresh_after
    }
    return render(request, "agent/_notifications.html", {"notifications": unread, "fresh": fresh})


def _user(request: HttpRequest) -> User:
    # Every view here is behind role_required, so the user is a signed-in staff user.
    return cast(User, request.user)


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    ticket = selectors.ticket_for(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket"))
    return ticket


def _agent_or_403(request: HttpRequest) -> Agent:
    agent = selectors.agent_for(request.user)
    if agent is None:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("Only agents can do this."))
    return agent


class ReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000)
    # A fresh key per rendered form: sent twice, the form is one reply (workflow.ticket_reply).
    client_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    # The newest message on the page the form came with: a reply is refused while messages
    # the agent has not seen arrived after it. Sending anyway is sending again with the
    # newest message then as seen (the refusal's form, or the script's, carries it).
    seen_message_id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Status.choices)


class TierForm(forms.Form):
    tier = forms.ChoiceField(choices=Tier.choices)
    reason = forms.CharField(max_length=200)


def _ticket_live_context(
    request: HttpRequest, ticket: Ticket, *, since: str = ""
) -> dict[str, object]:
    """What the ticket page shows that changes by itself: the timeline (as this user may see
    it: its latest page, or with `since` every entry from that cursor on) and the SLA box."""
    return {
        "ticket": ticket,
        "timeline": selectors.customer_timeline(
            customer=ticket.customer, viewer=request.user, include_internal=True, since=since
        ),
        "clocks": clocks_for_subject(subject_id=ticket.pk),
    }


@require_GET
@role_required(Role.AGENT)
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    ticket = selectors.ticket_for(request.user, number, for_page=True)
    if ticket is None:
        # A ticket of another team: who owns it, and a way to ask them (no conversation).
        return ticket_restricted(request, number)
    return _ticket_page(request, ticket)


def _ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    overtaken: ReplyOvertaken | None = None,
) -> HttpResponse:
    """The ticket page; with `overtaken`, the reply the agent sent back in its box, refused
    because of the messages it names (status 409)."""
    if reply_form is None:
        reply_form = ReplyForm(
            initial={
                "client_token": uuid.uuid4().hex,
                "seen_message_id": ticket.newest_message_id
                if hasattr(ticket, "newest_message_id")
                else selectors.message_last_id(ticket=ticket),
            }
        )
    return render(
        request,
        "agent/ticket.html",
        {
            **_ticket_live_context(request, ticket),
            "contacts": selectors.customer_contacts_masked(ticket.customer),
            "other_tickets": selectors.customer_other_tickets(ticket=ticket, viewer=request.user),
            "reply_form": reply_form,
            "overtaken": overtaken,
            "suggestions": selectors.article_suggestions(ticket=ticket),
            "panels": hooks.ticket_panels(request, ticket),
            "status_form": StatusForm(initial={"status": ticket.status}),
            "tier_form": TierForm(initial={"tier": ticket.tier}),
            "merge_suggestions": selectors.merge_suggestions(customer=ticket.customer)
            if has_role(request.user, Role.SUPERVISOR)
            else None,
        },
        status=409 if overtaken is not None else 200,
    )


@require_GET
@role_required(Role.AGENT)
def ticket_live(request: HttpRequest, number: str) -> HttpResponse:
    """The ticket page's timeline and SLA box, fetched (htmx) when an event concerns the
    ticket; the same visibility check as the page. `since` (the oldest entry the page first
    showed) brings every entry from there on, so the earlier pages the agent opened above
    them stay; without it, the latest page.

    A ticket that left the user's sight while the page was open (transferred to another
    team) answers the page's own request with nothing and the event `kefu:ticket-gone`, on
    which the page loads itself again and shows what the user may see now; any other
    request gets the 404."""
    ticket = selectors.ticket_for(request.user, number)
    if ticket is None:
        if not request.headers.get("HX-Request"):
            raise Http404(_("No such ticket"))
        gone = HttpResponse(status=204)
        gone["HX-Trigger"] = "kefu:ticket-gone"
        return gone
    context = _ticket_live_context(request, ticket, since=request.GET.get("since", ""))
    return render(request, "agent/_ticket_live.html", context)


@require_GET
@role_required(Role.AGENT)
def ticket_timeline(request: HttpRequest, number: str) -> HttpResponse:
    """An earlier page of the ticket page's timeline (the "earlier" link, htmx): the entries
    before the cursor `before`, with the link to the page before them."""
    ticket = _ticket_or_404(request, number)
    before = request.GET.get("before", "")
    if not before:
        return HttpResponseBadRequest(_("Say which entries to show: before=…"))
    timeline = selectors.customer_timeline(
        customer=ticket.customer, viewer=request.user, include_internal=True, before=before
    )
    return render(request, "agent/_timeline_page.html", {"ticket": ticket, "timeline": timeline})


def _message_or_404(request: HttpRequest, pk: int) -> Message:
    message = selectors.message_for(request.user, pk)
    if message is None:
        raise Http404(_("No such message"))
    return message


@require_GET
@role_required(Role.AGENT)
def message_body(request: HttpRequest, pk: int) -> HttpResponse:
    """The next piece of a long message (its "show more" link, htmx): `field` "body" or
    "quoted", `piece` 1, 2, …; masked like the timeline, with the link to the piece after."""
    message = _message_or_404(request, pk)
    field = request.GET.get("field", "body")
    piece = request.GET.get("piece", "")
    if field not in ("body", "quoted") or not piece.isdigit() or int(piece) < 1:
        return HttpResponseBadRequest(_("Say which piece to show: field=body|quoted, piece=1…"))
    text = message.body if field == "body" else message.quoted_text
    start, end = selectors.message_cuts(text, int(piece))
    if start >= len(text):
        raise Http404(_("The message has no more text."))
    return render(
        request,
        "agent/_message_piece.html",
        {
            "message": message,
            "field": field,
            "text": mask_text(text[start:end]),
            "next": int(piece) + 1,
            "left": len(text) - end,
        },
    )


@require_POST
@role_required(Role.AGENT)
def message_reveal(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The message's text with the numbers the timeline masks (phone, ID and bank-card
    numbers); the reveal is audited like a contact reveal. The timeline (htmx) gets the
    message's text back as HTML; other callers get JSON."""
    message = _message_or_404(request, pk)
    customers.message_reveal_text(message=message, actor=_user(request))
    if request.htmx:
        return render(request, "agent/_message_revealed.html", {"message": message})
    return JsonResponse(
        {
            "id": message.pk,
            "subject": message.subject,
            "body": message.body,
            "quoted_text": message.quoted_text,
        }
    )


@require_POST
@role_required(Role.AGENT)
def ticket_reply(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    agent = _agent_or_403(request)
    form = ReplyForm(request.POST)
    note = request.POST.get("kind") == "note"
    if form.is_valid():
        try:
            if note:
                workflow.ticket_add_note(
                    ticket=ticket, author=agent, body=form.cleaned_data["body"]
                )
            elif form.cleaned_data["seen_message_id"] is None:
                workflow.ticket_reply(
                    ticket=ticket,
                    author=agent,
                    body=form.cleaned_data["body"],
                    client_token=form.cleaned_data["client_token"],
                )
            else:
                reply_guard.ticket_reply_if_current(
                    ticket=ticket,
                    author=agent,
                    body=form.cleaned_data["body"],
                    client_token=form.cleaned_data["client_token"],
                    seen_message_id=form.cleaned_data["seen_message_id"],
                )
        except reply_guard.ReplyOvertaken as overtaken:
            return reply_overtaken_page(request, ticket, form, overtaken)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, _("The message cannot be empty."))
    return redirect("tickets:ticket", number=ticket.number)


def reply_overtaken_page(
    request: HttpRequest, ticket: Ticket, form: forms.Form, overtaken: reply_guard.ReplyOvertaken
) -> HttpResponse:
    """The page again, the reply still in its box and not sent, saying what arrived; the
    form now counts those messages as seen, and "Send anyway" sends it as it is."""
    messages.warning(
        request,
        ngettext(
            "Not sent: %(count)d new message arrived after you opened this ticket. Read it, "
            "then send again.",
            "Not sent: %(count)d new messages arrived after you opened this ticket. Read them, "
            "then send again.",
            len(overtaken.unseen),
        )
        % {"count": len(overtaken.unseen)},
    )
    again = ReplyForm(
        initial={
            "body": form.cleaned_data["body"],
            "client_token": form.cleaned_data["client_token"] or uuid.uuid4().hex,
            "seen_message_id": overtaken.last_id,
        }
    )
    return _ticket_page(request, ticket, reply_form=again, overtaken=overtaken)


@require_POST
@role_required(Role.AGENT)
def message_retry(request: HttpRequest, number: str, message_id: int) -> HttpResponse:
    """Send a message whose delivery failed again (the "Retry" beside "Failed")."""
    ticket = _ticket_or_404(request, number)
    message = ticket.messages.filter(pk=message_id).first()
    if message is None:
        raise Http404
    if not delivery.message_delivery_retry(message=message, actor=_user(request)):
        messages.info(request, _("That message is not failed: it was not sent again."))
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def ticket_status(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            workflow.ticket_set_status(
                ticket=ticket, status=form.cleaned_data["status"], actor=_user(request)
            )
        except ValidationError as error:
            # A close guard's refusal (a complaint without its review): say why on the page.
            messages.error(request, " ".join(error.messages))
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def ticket_take(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    workflow.ticket_assign(ticket=ticket, agent=_agent_or_403(request), actor=_user(request))
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def customer_reveal(request: HtmxHttpRequest, number: str) -> HttpResponse:
    """Unmask the customer's contact details for this ticket; the reveal is audited. The
    ticket page (htmx) gets its contact list back as HTML; other callers get JSON."""
    ticket = _ticket_or_404(request, number)
    identities = customers.customer_reveal_contact(
        customer=ticket.customer, actor=_user(request), ticket=ticket
    )
    if request.htmx:
        return render(
            request,
            "agent/_contacts.html",
            {"ticket": ticket, "contacts": identities, "revealed": True},
        )
    return JsonResponse(
        {"contacts": [{"kind": identity.kind, "value": identity.value} for identity in identities]}
    )


@require_POST
@role_required(Role.AGENT)
def ticket_plan(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    workflow.ticket_mark_plan(ticket=ticket, actor=_user(request))
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def ticket_tier(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = TierForm(request.POST)
    if form.is_valid():
        workflow.ticket_set_tier(
            ticket=ticket,
            tier=form.cleaned_data["tier"],
            actor=_user(request),
            reason=form.cleaned_data["reason"],
        )
    else:
        messages.error(request, _("Choose a priority and give a reason."))
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification_mark_read(user=_user(request), notification_id=pk)
    return redirect("tickets:queue")


@require_GET
@role_required(Role.AGENT)
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment of a ticket the user may see, always as a download: a file from a
    customer is never rendered in our origin (it could be HTML with script)."""
    attachment = (
        Attachment.objects.select_related("message__ticket")
        .filter(pk=pk, message__ticket__in=selectors.tickets_visible_to(request.user))
        .first()
    )
    if attachment is None or not attachment.file:
        raise Http404(_("No such attachment"))
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.filename
    )
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response
