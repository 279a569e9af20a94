"""Writing replies on the ticket page: sending a reply or note with its files and macros,
the macro picker's list, and the macros page where agents and supervisors keep them."""

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.roles import Role, has_role, role_required
from tickets import compose, selectors
from tickets.files import files_prepare
from tickets.models import Agent, Macro, MacroLanguage, Status, Team, Ticket
from tickets.services import reply_guard
from tickets.services.compose import ticket_compose_send
from tickets.services.macros import macro_delete, macro_save
from tickets.views import agent as agent_views


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    ticket = selectors.ticket_for(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket"))
    return ticket


def _agent_or_403(request: HttpRequest) -> Agent:
    agent = selectors.agent_for(request.user)
    if agent is None:
        raise PermissionDenied(_("Only agents can do this."))
    return agent


class SendForm(forms.Form):
    body = forms.CharField(max_length=10_000)
    client_token = forms.CharField(required=False, max_length=64)
    recipient = forms.IntegerField(required=False, min_value=1)
    # The macros whose text went into the reply: their actions are carried out with it.
    macros = forms.CharField(required=False, max_length=200)
    # The newest message on the page the box came with (tickets.services.reply_guard).
    seen_message_id = forms.IntegerField(required=False, min_value=0)


def _macro_ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip().isdigit()][:10]


@require_POST
@role_required(Role.AGENT)
def ticket_send(request: HttpRequest, number: str) -> HttpResponse:
    """The reply box: a reply (on the ticket's channel, or to the contact chosen in it) or
    an internal note, with files; refusals come back as a message on the page, never an
    error page."""
    ticket = _ticket_or_404(request, number)
    agent = _agent_or_403(request)
    form = SendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The message cannot be empty."))
        return redirect("tickets:ticket", number=ticket.number)
    is_note = request.POST.get("kind") == "note"
    recipient = None
    if not is_note and form.cleaned_data["recipient"]:
        recipient = compose.reply_recipient(
            ticket=ticket, identity_id=form.cleaned_data["recipient"]
        )
        if recipient is None:
            messages.error(request, _("That contact is not this customer's."))
            return redirect("tickets:ticket", number=ticket.number)
    wanted = _macro_ids(form.cleaned_data["macros"])
    macros = list(compose.macros_for(agent=agent).filter(pk__in=wanted)) if wanted else []
    seen = form.cleaned_data["seen_message_id"]
    token = form.cleaned_data["client_token"]
    try:
        files = files_prepare(request.FILES.getlist("files"))
        with transaction.atomic():
            if not is_note and seen is not None:
                # Never two agents answering unknowingly: refused, under the ticket's lock,
                # while messages came that this agent has not seen (a form sent twice is
                # the reply already stored, which the send returns).
                locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
                already = bool(token) and locked.messages.filter(client_token=token[:64]).exists()
                if not already:
                    reply_guard.unseen_refuse(ticket=locked, author=agent, seen_message_id=seen)
            ticket_compose_send(
                ticket=ticket,
                author=agent,
                body=form.cleaned_data["body"],
                is_note=is_note,
                client_token=token,
                files=files,
                recipient=recipient,
                macros=macros,
            )
    except reply_guard.ReplyOvertaken as overtaken:
        return agent_views.reply_overtaken_page(request, ticket, form, overtaken)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("tickets:ticket", number=ticket.number)


@require_GET
@role_required(Role.AGENT)
def ticket_macros(request: HttpRequest, number: str) -> JsonResponse:
    """The macros this agent may use, rendered for this ticket (the reply box's picker)."""
    ticket = _ticket_or_404(request, number)
    agent = _agent_or_403(request)
    variables = compose.macro_variables(ticket=ticket, agent=agent)
    return JsonResponse(
        {
            "macros": [
                {
                    "id": macro.pk,
                    "name": macro.name,
                    "language": macro.language,
                    "shared": not macro.is_personal,
                    "text": compose.macro_render(macro, variables),
                    "actions": _action_labels(macro),
                }
                for macro in compose.macros_for(agent=agent)
            ]
        }
    )


def _action_labels(macro: Macro) -> list[str]:
    labels = []
    if macro.add_tag:
        labels.append(_("tag: %(tag)s") % {"tag": macro.add_tag})
    if macro.transfer_to is not None:
        labels.append(_("to team: %(team)s") % {"team": macro.transfer_to.name})
    if macro.set_status:
        labels.append(_("status: %(status)s") % {"status": Status(macro.set_status).label})
    return labels


class MacroForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Variables: {customer_name}, {ticket_number}, {order_number}, {agent_name}"
        ),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=MacroLanguage.choices)
    sharing = forms.ChoiceField(label=gettext_lazy("Who uses it"))
    set_status = forms.ChoiceField(
        label=gettext_lazy("Then set status"),
        choices=[("", "—"), *Status.choices],
        required=False,
    )
    add_tag = forms.CharField(label=gettext_lazy("Then add tag"), max_length=50, required=False)
    transfer_to = forms.ModelChoiceField(
        label=gettext_lazy("Then move to team"), queryset=Team.objects.all(), required=False
    )

    def __init__(self, *args: object, is_supervisor: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        choices = [("personal", _("Only me"))]
        if is_supervisor:
            choices.append(("global", _("Everyone")))
            choices.extend((f"team:{team.pk}", str(team)) for team in Team.objects.order_by("name"))
        sharing = self.fields["sharing"]
        assert isinstance(sharing, forms.ChoiceField)
        sharing.choices = choices


def _sharing_of(macro: Macro) -> str:
    if macro.is_personal:
        return "personal"
    return f"team:{macro.team_id}" if macro.team_id else "global"


@require_GET
@role_required(Role.AGENT)
def macro_list(request: HttpRequest) -> HttpResponse:
    agent = selectors.agent_for(request.user)
    user = cast(User, request.user)
    is_supervisor = has_role(user, Role.SUPERVISOR)
    if is_supervisor:
        shown = Macro.objects.filter(owner__isnull=True) | (
            Macro.objects.filter(owner=agent) if agent else Macro.objects.none()
        )
        macros = list(shown.select_related("team", "owner__user", "transfer_to"))
    else:
        macros = list(compose.macros_for(agent=agent)) if agent else []
    rows = [
        (macro, compose.macro_may_edit(user=user, agent=agent, macro=macro)) for macro in macros
    ]
    return render(request, "agent/macros.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@role_required(Role.AGENT)
def macro_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = cast(User, request.user)
    agent = selectors.agent_for(user)
    is_supervisor = has_role(user, Role.SUPERVISOR)
    macro = None
    if pk is not None:
        macro = Macro.objects.filter(pk=pk).first()
        if macro is None or not compose.macro_may_edit(user=user, agent=agent, macro=macro):
            raise Http404(_("No such macro"))
    if request.method == "POST":
        form = MacroForm(request.POST, is_supervisor=is_supervisor)
        if form.is_valid():
            data = form.cleaned_data
            sharing = data["sharing"]
            team = None
            if sharing.startswith("team:"):
                team = Team.objects.filter(pk=int(sharing[5:])).first()
            try:
                macro_save(
                    macro=macro,
                    user=user,
                    agent=agent,
                    name=data["name"],
                    body=data["body"],
                    language=data["language"],
                    is_shared=sharing != "personal",
                    team=team,
                    set_status=data["set_status"],
                    add_tag=data["add_tag"],
                    transfer_to=data["transfer_to"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Macro saved."))
                return redirect("tickets:macros")
    else:
        initial: dict[str, object] = {"language": request.LANGUAGE_CODE or settings.LANGUAGE_CODE}
        if macro is not None:
            initial = {
                "name": macro.name,
                "body": macro.body,
                "language": macro.language,
                "sharing": _sharing_of(macro),
                "set_status": macro.set_status,
                "add_tag": macro.add_tag,
                "transfer_to": macro.transfer_to_id,
            }
        form = MacroForm(initial=initial, is_supervisor=is_supervisor)
    return render(request, "agent/macro_form.html", {"form": form, "macro": macro})


@require_POST
@role_required(Role.AGENT)
def macro_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = cast(User, request.user)
    agent = selectors.agent_for(user)
    macro = Macro.objects.filter(pk=pk).first()
    if macro is None or not compose.macro_may_edit(user=user, agent=agent, macro=macro):
        raise Http404(_("No such macro"))
    macro_delete(macro=macro, user=user, agent=agent)
    messages.success(request, _("Macro deleted."))
    return redirect("tickets:macros")
