"""Never two agents answering the same ticket unknowingly: a reply is refused while the
customer wrote, or someone else replied, after the last message its writer saw."""

from django.db import transaction

from tickets.models import Agent, Message, Ticket
from tickets.selectors import messages_unseen
from tickets.services.workflow import ticket_reply

# How many of the unseen messages a refusal names (the page shows the rest in the timeline).
UNSEEN_SHOWN = 20


class ReplyOvertaken(Exception):
    """The reply was not sent: `unseen` arrived after the message its writer saw last."""

    def __init__(self, unseen: list[Message], last_id: int) -> None:
        super().__init__(f"{len(unseen)} message(s) arrived since the reply form was loaded")
        self.unseen = unseen
        # The newest message now: a form re-sent with it as "seen" goes through.
        self.last_id = last_id


def ticket_reply_if_current(
    *, ticket: Ticket, author: Agent, body: str, client_token: str, seen_message_id: int
) -> Message:
    """`workflow.ticket_reply`, unless messages the author has not seen arrived after
    `seen_message_id` (the newest message on their page when they loaded it): then nothing
    is stored and `ReplyOvertaken` says what came. Checked under the ticket's lock, the
    same lock every reply takes, so a reply that commits meanwhile is counted. The same
    form sent again (its `client_token`) returns the reply already stored, as
    `ticket_reply` does."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if client_token:
            sent = Message.objects.filter(ticket=locked, client_token=client_token[:64]).first()
            if sent is not None:
                return sent
        unseen_refuse(ticket=locked, author=author, seen_message_id=seen_message_id)
        return ticket_reply(ticket=locked, author=author, body=body, client_token=client_token)


def unseen_refuse(*, ticket: Ticket, author: Agent, seen_message_id: int) -> None:
    """Raise `ReplyOvertaken` when messages `author` has not seen arrived after
    `seen_message_id`. The caller holds the ticket's lock (select_for_update) in its
    transaction, and sends in that same transaction when nothing is raised."""
    unseen = list(
        messages_unseen(ticket=ticket, seen_message_id=seen_message_id, agent=author)[:UNSEEN_SHOWN]
    )
    if unseen:
        last_id = ticket.messages.order_by("-pk").values_list("pk", flat=True).first() or 0
        raise ReplyOvertaken(unseen, last_id)
