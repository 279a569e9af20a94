"""The supervisors' triage page: keyword rules, settings, the bot's channels, model versions
(train from an uploaded CSV, activate, roll back) and deflection figures."""

from datetime import timedelta
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kb import selectors, services
from kb.forms import BotChannelForm, TrainForm, TriageRuleForm, TriageSettingsForm
from kb.models import BotChannel, ModelTask, RuleKind, TriageModel, TriageRule
from kb.triage import URGENCY_LABELS
from kefu.roles import Role, role_required


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _rule_form(rule: TriageRule) -> TriageRuleForm:
    return TriageRuleForm(
        initial={
            "kind": rule.kind,
            "code": rule.code,
            "words": ", ".join(rule.words),
            "position": rule.position,
            "is_active": rule.is_active,
        },
        prefix=f"rule{rule.pk}",
    )


@require_GET
@role_required(Role.SUPERVISOR)
def overview(request: HttpRequest) -> HttpResponse:
    settings = selectors.triage_settings()
    since = timezone.now() - timedelta(days=30)
    return render(
        request,
        "kb/manage/triage.html",
        {
            "category_rules": [
                (rule, _rule_form(rule)) for rule in selectors.triage_rules(kind=RuleKind.CATEGORY)
            ],
            "urgency_rules": [
                (rule, _rule_form(rule), URGENCY_LABELS.get(rule.code, rule.code))
                for rule in selectors.triage_rules(kind=RuleKind.URGENCY)
            ],
            "new_rule_form": TriageRuleForm(prefix="new"),
            "settings_form": TriageSettingsForm(
                initial={
                    "category_threshold": settings.category_threshold,
                    "negative_sentiment_is_urgent": settings.negative_sentiment_is_urgent,
                    "negative_sentiment_threshold": settings.negative_sentiment_threshold,
                    "vip_is_urgent": settings.vip_is_urgent,
                    "repeat_contacts_threshold": settings.repeat_contacts_threshold,
                }
            ),
            "bot_forms": [
                BotChannelForm(
                    initial={
                        "channel": c.channel,
                        "is_enabled": c.is_enabled,
                        "threshold": c.threshold,
                    },
                    prefix=f"bot-{c.channel}",
                )
                for c in BotChannel.objects.all()
            ],
            "models": selectors.triage_models()[:30],
            "active": [
                (label, selectors.active_model(task=task)) for task, label in ModelTask.choices
            ],
            "tasks": ModelTask.choices,
            "runs": selectors.training_runs(),
            "train_form": TrainForm(),
            "deflection": selectors.deflection_summary(since=since),
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def rule_save(request: HttpRequest) -> HttpResponse:
    prefix = request.POST.get("prefix", "new")
    form = TriageRuleForm(request.POST, prefix=prefix)
    if form.is_valid():
        data = form.cleaned_data
        services.triage_rule_save(
            kind=data["kind"],
            code=data["code"],
            words=form.keywords(),
            is_active=data["is_active"],
            position=data["position"],
        )
        messages.success(request, _("Rule saved."))
    else:
        messages.error(request, _("The rule was not saved: %(errors)s") % {"errors": form.errors})
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.triage_rule_delete(rule=get_object_or_404(TriageRule, pk=pk))
    messages.success(request, _("Rule deleted."))
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def settings_save(request: HttpRequest) -> HttpResponse:
    form = TriageSettingsForm(request.POST)
    if form.is_valid():
        services.triage_settings_update(**form.cleaned_data)
        messages.success(request, _("Settings saved."))
    else:
        messages.error(request, _("Not saved: %(errors)s") % {"errors": form.errors})
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def bot_channel_save(request: HttpRequest, channel: str) -> HttpResponse:
    form = BotChannelForm(request.POST, prefix=f"bot-{channel}")
    if form.is_valid() and form.cleaned_data["channel"] == channel:
        services.bot_channel_update(
            channel=channel,
            is_enabled=form.cleaned_data["is_enabled"],
            threshold=form.cleaned_data["threshold"],
        )
        messages.success(request, _("Bot settings saved."))
    else:
        messages.error(request, _("Not saved: %(errors)s") % {"errors": form.errors})
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def train(request: HttpRequest) -> HttpResponse:
    form = TrainForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Not started: %(errors)s") % {"errors": form.errors})
        return redirect("kb:triage")
    data = form.cleaned_data
    upload = data["file"]
    services.training_run_create(
        task=data["task"],
        name=data["name"] or upload.name,
        data=upload.read(),
        text_column=data["text_column"].strip(),
        label_column=data["label_column"].strip(),
        author=_user(request),
    )
    messages.success(
        request, _("Training started; the result shows below when it is done (reload).")
    )
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def model_activate(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(TriageModel.objects.defer("blob"), pk=pk)
    services.triage_model_activate(model=model)
    messages.success(request, _("Model #%(pk)d is now active.") % {"pk": pk})
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def model_rollback(request: HttpRequest, task: str) -> HttpResponse:
    previous = services.triage_model_rollback(task=task)
    if previous is None:
        messages.error(request, _("There is no earlier model to roll back to."))
    else:
        messages.success(request, _("Rolled back to model #%(pk)d.") % {"pk": previous.pk})
    return redirect("kb:triage")


@require_POST
@role_required(Role.SUPERVISOR)
def model_deactivate(request: HttpRequest, task: str) -> HttpResponse:
    services.triage_model_deactivate(task=task)
    messages.success(request, _("No model is active: rules and the lexicon decide."))
    return redirect("kb:triage")
