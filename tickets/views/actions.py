"""Acting on tickets from the agent workspace: transfer, category, tags and custom fields,
merge and undo, split, links, tickets opened by hand, bulk actions on the queue, and the page
for a ticket of another team (with a way to ask that team for access).

Every view checks that the user may see the tickets it acts on (`selectors.ticket_for`) and
calls one service; what a service refuses comes back to the page as an error message.
"""

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.roles import Role, role_required
from tickets import selectors
from tickets.models import (
    Agent,
    Call,
    Channel,
    Customer,
    Status,
    Store,
    Team,
    Ticket,
    TicketMerge,
)
from tickets.services import actions, merging, workflow
from tickets.services.manual import ManualTicket, ticket_open_by_hand

BULK_MAX = 100


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    ticket = selectors.ticket_for(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket"))
    return ticket


def _refused(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _after(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """Back to the ticket, or to the queue when the user may no longer see it (they
    transferred it away)."""
    if selectors.ticket_for(request.user, ticket.number) is None:
        return redirect("tickets:queue")
    return redirect("tickets:ticket", number=ticket.number)


class TransferForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.select_related("user").prefetch_related("teams"), required=False
    )
    note = forms.CharField(max_length=actions.NOTE_MAX_CHARS)


@require_POST
@role_required(Role.AGENT)
def ticket_transfer(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = TransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a team or an agent and say why."))
        return redirect("tickets:ticket", number=ticket.number)
    try:
        ticket = actions.ticket_transfer(
            ticket=ticket,
            team=form.cleaned_data["team"],
            agent=form.cleaned_data["agent"],
            note=form.cleaned_data["note"],
            actor=_user(request),
        )
    except ValidationError as error:
        _refused(request, error)
        return redirect("tickets:ticket", number=ticket.number)
    messages.success(
        request,
        _("Ticket %(number)s transferred to %(to)s.")
        % {"number": ticket.number, "to": ticket.assignee or ticket.team},
    )
    return _after(request, ticket)


class CategoryForm(forms.Form):
    category = forms.CharField(max_length=50, required=False)
    reason = forms.CharField(max_length=200)


@require_POST
@role_required(Role.AGENT)
def ticket_category(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = CategoryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a category and give a reason."))
    else:
        try:
            actions.ticket_set_category(
                ticket=ticket,
                category=form.cleaned_data["category"],
                actor=_user(request),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _refused(request, error)
    return redirect("tickets:ticket", number=ticket.number)


def _tags_from(text: str) -> list[str]:
    return [part for part in text.replace("，", ",").split(",") if part.strip()]


@require_POST
@role_required(Role.AGENT)
def ticket_tags(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    try:
        actions.ticket_set_tags(
            ticket=ticket, tags=_tags_from(request.POST.get("tags", "")), actor=_user(request)
        )
    except ValidationError as error:
        _refused(request, error)
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def ticket_fields(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    values = {
        key.removeprefix("field_"): request.POST.get(key, "")
        for key in request.POST
        if key.startswith("field_")
    }
    try:
        actions.ticket_set_fields(ticket=ticket, values=values, actor=_user(request))
    except ValidationError as error:
        _refused(request, error)
    return redirect("tickets:ticket", number=ticket.number)


@require_POST
@role_required(Role.AGENT)
def ticket_merge(request: HttpRequest, number: str) -> HttpResponse:
    """Merge this ticket into the ticket numbered `into` (the survivor), or, with
    `direction=here`, the ticket `into` into this one."""
    ticket = _ticket_or_404(request, number)
    other = selectors.ticket_for(request.user, request.POST.get("into", "").strip())
    if other is None:
        messages.error(request, _("No such ticket, or not one you may open."))
        return redirect("tickets:ticket", number=ticket.number)
    source, target = (other, ticket) if request.POST.get("direction") == "here" else (ticket, other)
    try:
        merging.ticket_merge(
            source=source,
            target=target,
            actor=_user(request),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        _refused(request, error)
        return redirect("tickets:ticket", number=ticket.number)
    messages.success(
        request,
        _("Ticket %(source)s was merged into %(target)s; it can be undone for a day.")
        % {"source": source.number, "target": target.number},
    )
    return redirect("tickets:ticket", number=target.number)


@require_POST
@role_required(Role.AGENT)
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(TicketMerge.objects.select_related("source", "target"), pk=pk)
    visible = selectors.tickets_visible_to(request.user)
    if not visible.filter(pk__in=[merge.source_id, merge.target_id]).count() == 2:
        raise Http404(_("No such ticket"))
    try:
        merging.ticket_merge_undo(merge=merge, actor=_user(request))
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("Ticket %(source)s is separate again.") % {"source": merge.source.number},
        )
    return redirect("tickets:ticket", number=merge.source.number)


@require_POST
@role_required(Role.AGENT)
def ticket_split(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    ids = [int(v) for v in request.POST.getlist("messages") if v.isdigit()]
    try:
        new = merging.ticket_split(
            ticket=ticket,
            message_ids=ids,
            actor=_user(request),
            subject=request.POST.get("subject", ""),
        )
    except ValidationError as error:
        _refused(request, error)
        return redirect("tickets:ticket", number=ticket.number)
    messages.success(
        request,
        _("%(count)d messages moved to the new ticket %(number)s.")
        % {"count": len(set(ids)), "number": new.number},
    )
    return redirect("tickets:ticket", number=new.number)


@require_POST
@role_required(Role.AGENT)
def ticket_link(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    other = selectors.ticket_for(request.user, request.POST.get("other", "").strip())
    if other is None:
        messages.error(request, _("No such ticket, or not one you may open."))
        return redirect("tickets:ticket", number=ticket.number)
    try:
        if request.POST.get("remove"):
            actions.ticket_unlink(ticket=ticket, other=other, actor=_user(request))
        else:
            actions.ticket_link(ticket=ticket, other=other, actor=_user(request))
    except ValidationError as error:
        _refused(request, error)
    return redirect("tickets:ticket", number=ticket.number)


def ticket_restricted(request: HttpRequest, number: str) -> HttpResponse:
    """The page for a ticket that exists but belongs to another team: which team owns it
    and a way to ask them for access or a transfer; nothing of the conversation."""
    ticket = Ticket.objects.select_related("team").filter(number=number).first()
    if ticket is None:
        raise Http404(_("No such ticket"))
    return render(request, "agent/_actions_restricted.html", {"restricted": ticket}, status=403)


class AskForm(forms.Form):
    wish = forms.ChoiceField(choices=[(w, w) for w in actions.AccessWish.ALL])
    note = forms.CharField(max_length=300, required=False)


@require_POST
@role_required(Role.AGENT)
def ticket_ask(request: HttpRequest, number: str) -> HttpResponse:
    """Ask the team that owns a ticket for access to it, or for a transfer."""
    ticket = Ticket.objects.select_related("team").filter(number=number).first()
    if ticket is None:
        raise Http404(_("No such ticket"))
    if selectors.ticket_for(request.user, number) is not None:
        return redirect("tickets:ticket", number=number)
    form = AskForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ask for access or for a transfer."))
    else:
        actions.ticket_access_ask(
            ticket=ticket,
            actor=_user(request),
            wish=form.cleaned_data["wish"],
            note=form.cleaned_data["note"],
        )
        messages.success(
            request,
            _("%(team)s was asked; you will be able to open it once they act.")
            % {"team": ticket.team or _("a supervisor")},
        )
    return redirect("tickets:ticket", number=number)


class ManualForm(forms.Form):
    channel = forms.ChoiceField(choices=[(Channel.PHONE, ""), (Channel.STORE, "")])
    text = forms.CharField(max_length=10_000)
    subject = forms.CharField(max_length=200, required=False)
    name = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(max_length=254, required=False)
    store = forms.ModelChoiceField(queryset=Store.objects.filter(is_active=True), required=False)
    call = forms.IntegerField(required=False, widget=forms.HiddenInput)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)


@require_http_methods(["GET", "POST"])
@role_required(Role.AGENT)
def ticket_new(request: HttpRequest) -> HttpResponse:
    """Open a ticket by hand: `?call=<id>` for an answered call (prefilled with the caller),
    `?channel=store` for a customer at a store's counter."""
    call: Call | None = None
    customer: Customer | None = None
    source = request.POST if request.method == "POST" else request.GET
    if str(source.get("call", "")).isdigit():
        call = selectors.call_for(request.user, int(source["call"]))
        if call is None:
            raise Http404(_("No such call"))
        customer = call.customer
    elif str(source.get("customer", "")).isdigit():
        # Only a customer of a ticket the user may open: no guessing of other people's ids.
        customer = Customer.objects.filter(
            pk=int(source["customer"]),
            tickets__in=selectors.tickets_visible_to(request.user),
        ).first()
    channel = Channel.PHONE if call is not None else source.get("channel", Channel.STORE)
    if request.method == "POST":
        form = ManualForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = ticket_open_by_hand(
                    request=ManualTicket(
                        channel=data["channel"],
                        text=data["text"],
                        subject=data["subject"],
                        customer=customer,
                        name=data["name"],
                        phone=data["phone"],
                        email=data["email"],
                        store=data["store"],
                        call=call,
                    ),
                    actor=_user(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request, _("Ticket %(number)s opened.") % {"number": ticket.number}
                )
                return _after(request, ticket)
    else:
        form = ManualForm(
            initial={
                "channel": channel,
                "call": call.pk if call else None,
                "customer": customer.pk if customer else None,
                "name": customer.name if customer else "",
            }
        )
    return render(
        request,
        "agent/_actions_new.html",
        {
            "form": form,
            "call": call,
            "customer": customer,
            "contacts": selectors.customer_contacts_masked(customer) if customer else [],
            "channel": form["channel"].value() or channel,
            "stores": Store.objects.filter(is_active=True),
        },
    )


BULK_ACTIONS = ("assign", "transfer", "status", "tags", "spam")


@require_POST
@role_required(Role.AGENT)
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """One action on the tickets ticked in the queue. A status change goes through the
    batch status service (`tickets_set_status`: the rules of each ticket's page, for all of
    them in a few statements); the other actions through each ticket's own service. Either
    way the same guards hold: a refusal on one ticket is reported and the others are still
    done."""
    action = request.POST.get("action", "")
    numbers = list(dict.fromkeys(request.POST.getlist("tickets")))[:BULK_MAX]
    back = request.POST.get("next", "")
    if not (back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = "tickets:queue"
    if action not in BULK_ACTIONS or not numbers:
        messages.error(request, _("Tick some tickets and choose an action."))
        return redirect(back)
    tickets = list(
        selectors.tickets_visible_to(request.user)
        .filter(number__in=numbers)
        .select_related("customer")
    )
    actor = _user(request)
    done, refused = 0, []
    agent = None
    team = None
    if action in ("assign", "transfer"):
        agent_id = request.POST.get("agent", "")
        team_id = request.POST.get("team", "")
        agent = (
            Agent.objects.select_related("user").filter(pk=int(agent_id)).first()
            if agent_id.isdigit()
            else None
        )
        team = Team.objects.filter(pk=int(team_id)).first() if team_id.isdigit() else None
    if action == "status":
        # One batch: the same rules as on each ticket's page, in a few statements for all.
        status = request.POST.get("status", "")
        if status not in Status.values:
            messages.error(request, _("Choose a status."))
            return redirect(back)
        changes = workflow.tickets_set_status(
            ticket_ids=[ticket.pk for ticket in tickets], status=status, actor=actor
        )
        done = len(changes.changed) + len(changes.unchanged)
        refused = [f"{r.ticket.number}: {r.reason}" for r in changes.refused]
    else:
        for ticket in tickets:
            try:
                if action == "assign":
                    if agent is None:
                        raise actions.ActionRefused(_("Choose an agent."))
                    if not agent.user.is_active:
                        raise actions.ActionRefused(
                            _("%(agent)s's account is inactive: choose someone else.")
                            % {"agent": agent}
                        )
                    if ticket.team_id and agent.teams.filter(pk=ticket.team_id).exists():
                        workflow.ticket_assign(ticket=ticket, agent=agent, actor=actor)
                    else:
                        actions.ticket_transfer(
                            ticket=ticket,
                            team=None,
                            agent=agent,
                            note=request.POST.get("note", "") or _("Assigned from the queue"),
                            actor=actor,
                        )
                elif action == "transfer":
                    actions.ticket_transfer(
                        ticket=ticket,
                        team=team,
                        agent=agent,
                        note=request.POST.get("note", ""),
                        actor=actor,
                    )
                elif action == "tags":
                    actions.ticket_tags_add(
                        ticket=ticket, tags=_tags_from(request.POST.get("tags", "")), actor=actor
                    )
                else:
                    actions.ticket_close_as_spam(ticket=ticket, actor=actor)
            except ValidationError as error:
                refused.append(f"{ticket.number}: {' '.join(error.messages)}")
            else:
                done += 1
    missing = len(numbers) - len(tickets)
    if done:
        messages.success(request, _("Done on %(count)d tickets.") % {"count": done})
    if missing:
        messages.error(
            request, _("%(count)d tickets were not found or not yours to see.") % {"count": missing}
        )
    for line in refused:
        messages.error(request, line)
    return redirect(back)
