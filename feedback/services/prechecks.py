"""Automatic pre-checks of a sampled ticket: each finding points at a message, and the
number of findings ranks the sample for the reviewers.

- **No greeting**: the agents' first human reply contains none of the greetings (Chinese and
  English lists, `QualitySettings`), case-insensitively.
- **Forbidden phrase**: a human reply contains a phrase of the forbidden list.
- **Mood dropped**: a customer message's sentiment is lower than the best one before it by
  `sentiment_drop` or more (scores -1 … 1: the one triage stored, else the `kb` lexicon's).
- **Long silence**: a customer message waited more than `silence_minutes` *business*
  minutes (the team's calendar, else the default one) for the next human reply.
"""

from datetime import datetime

from feedback.models import PrecheckHit, PrecheckKind, QualitySettings, Sample
from feedback.services.quality_settings import quality_settings
from kb.sentiment import lexicon_score
from sla.calendar import WorkCalendar, default_calendar
from sla.selectors import default_calendar_id, work_calendar
from tickets.models import Direction, Message, Ticket


def _calendar(ticket: Ticket) -> WorkCalendar:
    calendar_id = (ticket.team.calendar_id if ticket.team else None) or default_calendar_id()
    return work_calendar(calendar_id) if calendar_id else default_calendar()


def _is_human_reply(message: Message) -> bool:
    return (
        message.direction == Direction.OUT
        and message.author_id is not None
        and not message.is_bot
        and not message.is_automatic
    )


def _found(text: str, words: list[str]) -> str | None:
    folded = text.casefold()
    for word in words:
        if word and word.casefold() in folded:
            return word
    return None


def precheck_findings(
    *, ticket: Ticket, messages: list[Message], config: QualitySettings
) -> list[tuple[str, Message, str]]:
    """(kind, message, detail) for each finding, in the conversation's order."""
    findings: list[tuple[str, Message, str]] = []
    replies = [message for message in messages if _is_human_reply(message)]
    if replies:
        greetings = [*config.greetings_zh, *config.greetings_en]
        if greetings and _found(replies[0].body, greetings) is None:
            findings.append((PrecheckKind.NO_GREETING, replies[0], ""))
    for reply in replies:
        phrase = _found(reply.body, list(config.forbidden_phrases))
        if phrase is not None:
            findings.append((PrecheckKind.FORBIDDEN_PHRASE, reply, phrase))

    best: float | None = None
    for message in messages:
        if message.direction != Direction.IN:
            continue
        score = message.sentiment if message.sentiment is not None else lexicon_score(message.body)
        if best is not None and best - score >= config.sentiment_drop:
            findings.append((PrecheckKind.SENTIMENT_DROP, message, f"{best:+.2f} → {score:+.2f}"))
            best = score  # one finding per fall, not one per message after it
        elif best is None or score > best:
            best = score

    calendar: WorkCalendar | None = None
    waiting_since: tuple[Message, datetime] | None = None
    for message in messages:
        if message.direction == Direction.IN and waiting_since is None:
            waiting_since = (message, message.created_at)
        elif _is_human_reply(message) and waiting_since is not None:
            calendar = calendar or _calendar(ticket)
            minutes = calendar.between(waiting_since[1], message.created_at) // 60
            if minutes > config.silence_minutes:
                findings.append((PrecheckKind.LONG_SILENCE, waiting_since[0], str(minutes)))
            waiting_since = None
    order = {message.pk: index for index, message in enumerate(messages)}
    findings.sort(key=lambda finding: order[finding[1].pk])
    return findings


def precheck_run(*, sample: Sample) -> list[PrecheckHit]:
    """Run the pre-checks on the sample's ticket and keep what they found in place of any
    earlier findings (running again after the lists change is safe)."""
    messages = list(
        Message.objects.filter(ticket_id=sample.ticket_id)
        .only(
            "pk",
            "direction",
            "author_id",
            "is_bot",
            "is_automatic",
            "body",
            "sentiment",
            "created_at",
        )
        .order_by("created_at", "pk")
    )
    ticket = Ticket.objects.select_related("team").get(pk=sample.ticket_id)
    findings = precheck_findings(ticket=ticket, messages=messages, config=quality_settings())
    sample.hits.all().delete()
    return PrecheckHit.objects.bulk_create(
        PrecheckHit(sample=sample, kind=kind, message=message, detail=detail[:300])
        for kind, message, detail in findings
    )
