"""What the ticket page's reply box sends: a reply (on the ticket's channel or to another
contact of the customer) or an internal note, with its files, and the actions of the
macros that went into it."""

from collections.abc import Sequence

from django.db import transaction

from tickets.compose import channel_for_identity
from tickets.files import PreparedFile
from tickets.formatting import reply_html
from tickets.models import Agent, Channel, ContactIdentity, Macro, Message, Ticket
from tickets.services.attachments import message_attachments_store
from tickets.services.macros import macro_actions_apply
from tickets.services.workflow import ticket_add_note, ticket_reply


def ticket_compose_send(
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    is_note: bool,
    client_token: str,
    files: Sequence[PreparedFile],
    recipient: ContactIdentity | None,
    macros: Sequence[Macro],
) -> Message:
    """Send what the agent wrote, in one transaction: the message and its files are stored
    together (a reply is delivered after commit, files and all), then the macros' actions
    are carried out. The same reply form sent again (`client_token`) returns the first
    reply and changes nothing more. `recipient` None: the ticket's own channel."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if (
            not is_note
            and client_token
            and (sent := Message.objects.filter(ticket=locked, client_token=client_token).first())
        ):
            return sent
        if is_note:
            message = ticket_add_note(ticket=locked, author=author, body=body)
        else:
            channel = channel_for_identity(recipient) if recipient is not None else locked.channel
            message = ticket_reply(
                ticket=locked,
                author=author,
                body=body,
                client_token=client_token,
                recipient=recipient,
                html=reply_html(body) if channel == Channel.EMAIL else "",
            )
        if files:
            message_attachments_store(message=message, files=files)
        if macros:
            macro_actions_apply(ticket=locked, macros=list(macros), actor=author.user)
    return message
