"""Call-back pages: the queue (supervisors see every task, an agent the tasks given to
them), one task with its attempts, and a task added by hand from the ticket page.

Customers' contacts are shown masked, as on the ticket page (whose audited reveal is a link
away); a task the user may not see is a 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback.forms.callbacks import AssignForm, AttemptForm, CallbackForm
from feedback.models import CallbackReason
from feedback.selectors.callbacks import callback_for, callback_queue
from feedback.services.callbacks import callback_assign, callback_attempt_record, callback_create
from kefu.roles import Role, has_role, role_required
from tickets import selectors as ticket_selectors
from tickets.masking import mask_text
from tickets.models import Agent

PAGE_SIZE = 50


def _agent_of(request: HttpRequest) -> Agent | None:
    return Agent.objects.filter(user_id=request.user.pk or 0).first()


@require_GET
@role_required(Role.AGENT)
def queue(request: HttpRequest) -> HttpResponse:
    state = "done" if request.GET.get("state") == "done" else "open"
    is_supervisor = has_role(request.user, Role.SUPERVISOR)
    mine = request.GET.get("mine") == "1" or not is_supervisor
    callbacks = callback_queue(user=request.user, state=state, mine=mine)
    page = Paginator(callbacks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/callbacks/queue.html",
        {
            "page": page,
            "state": state,
            "mine": mine,
            "is_supervisor": is_supervisor,
            "now": timezone.now(),
        },
    )


def _callback_or_404(request: HttpRequest, pk: int):  # type: ignore[no-untyped-def]
    callback = callback_for(user=request.user, pk=pk)
    if callback is None:
        raise Http404
    return callback


@require_GET
@role_required(Role.AGENT)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    callback = _callback_or_404(request, pk)
    return _detail_page(request, callback, attempt_form=AttemptForm())


def _detail_page(
    request: HttpRequest, callback, *, attempt_form: AttemptForm, status: int = 200
) -> HttpResponse:  # type: ignore[no-untyped-def]
    is_supervisor = has_role(request.user, Role.SUPERVISOR)
    return render(
        request,
        "feedback/callbacks/detail.html",
        {
            "callback": callback,
            "note": mask_text(callback.note),
            "attempts": [(attempt, mask_text(attempt.note)) for attempt in callback.attempts.all()],
            "contacts": ticket_selectors.customer_contacts_masked(callback.customer),
            "attempt_form": attempt_form,
            "assign_form": AssignForm(initial={"owner": callback.owner_id})
            if is_supervisor
            else None,
            "is_supervisor": is_supervisor,
        },
        status=status,
    )


@require_POST
@role_required(Role.AGENT)
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    callback = _callback_or_404(request, pk)
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, callback, attempt_form=form, status=400)
    try:
        callback_attempt_record(
            callback=callback,
            agent=_agent_of(request),
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            actor=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _detail_page(request, callback, attempt_form=form, status=409)
    messages.success(request, _("Attempt recorded."))
    return redirect("feedback:callback", pk=callback.pk)


@require_POST
@role_required(Role.SUPERVISOR)
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    callback = _callback_or_404(request, pk)
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an agent."))
        return redirect("feedback:callback", pk=callback.pk)
    callback_assign(callback=callback, owner=form.cleaned_data["owner"], actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Call-back given."))
    return redirect("feedback:callback", pk=callback.pk)


@require_http_methods(["POST"])
@role_required(Role.AGENT)
def create(request: HttpRequest, number: str) -> HttpResponse:
    """A task added by hand from the ticket page, by anyone who may open the ticket."""
    ticket = ticket_selectors.ticket_for(request.user, number)
    if ticket is None:
        raise Http404
    form = CallbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the customer should be called back."))
        return redirect("tickets:ticket", number=ticket.number)
    agent = _agent_of(request)
    if form.cleaned_data["take"] and agent is None:
        raise PermissionDenied
    callback = callback_create(
        ticket=ticket,
        reason=CallbackReason.MANUAL,
        note=form.cleaned_data["note"],
        actor=request.user,  # type: ignore[arg-type]
        owner=agent if form.cleaned_data["take"] else None,
        due_at=form.cleaned_data["due_at"],
    )
    messages.success(request, _("Call-back added."))
    return redirect("feedback:callback", pk=callback.pk)
