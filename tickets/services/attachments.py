"""Files attached to a message by hand (tickets/files.py says what is taken and how it is
kept): stored with the message, in its transaction."""

from collections.abc import Sequence

from django.core.files.base import ContentFile

from tickets.files import PreparedFile
from tickets.models import Attachment, Message


def message_attachments_store(
    *, message: Message, files: Sequence[PreparedFile]
) -> list[Attachment]:
    """Store accepted files as the message's attachments. Call it inside the transaction
    that stores the message, so that a reply is never delivered without its files."""
    stored = []
    for prepared in files:
        attachment = Attachment(
            message=message,
            filename=prepared.filename,
            content_type=prepared.content_type,
            size=prepared.size,
            md5=prepared.md5,
            sha256=prepared.sha256,
        )
        attachment.file.save(prepared.filename, ContentFile(prepared.data), save=False)
        attachment.save()
        stored.append(attachment)
    return stored
