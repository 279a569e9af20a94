"""Opening an attachment in the browser instead of downloading it: an agent's preview on
the ticket page, and the customer's link (in a chat or app message, on the status page).

A file is shown inline only when its stored type is one of tickets.files.INLINE_TYPES and
its first bytes say it really is that (a customer's email may claim "image/png" for an HTML
page): then it is served with that type, `nosniff` and a sandboxing Content-Security-Policy,
so even a PDF with script runs nothing in our origin. Anything else is downloaded, as the
workspace's download link always does."""

from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kefu.roles import Role, role_required
from tickets import compose, selectors
from tickets.files import INLINE_TYPES
from tickets.models import Attachment

_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
# The file may not run anything, load anything but itself, or be framed by another site.
SANDBOX_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'"
)


def _shown_inline(attachment: Attachment) -> bool:
    if attachment.content_type not in INLINE_TYPES:
        return False
    with attachment.file.open("rb") as handle:
        head = handle.read(16)
    if attachment.content_type == "image/webp" and head[8:12] != b"WEBP":
        return False
    return head.startswith(_MAGIC[attachment.content_type])


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file inline under its own (checked) type, or as a download otherwise."""
    inline = _shown_inline(attachment)
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=not inline, filename=attachment.filename
    )
    response["Content-Type"] = attachment.content_type if inline else "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@role_required(Role.AGENT)
def attachment_view(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment of a ticket the user may see, opened in the browser when safe."""
    attachment = (
        Attachment.objects.filter(
            pk=pk, message__ticket__in=selectors.tickets_visible_to(request.user)
        )
        .exclude(file="")
        .first()
    )
    if attachment is None:
        raise Http404(_("No such attachment"))
    return attachment_response(attachment)


@require_GET
def attachment_by_link(request: HttpRequest, token: str) -> FileResponse:
    """A file of a customer's message or of a reply to them, by the signed link they were
    given (no sign-in: the link is the key, and it expires)."""
    attachment = compose.attachment_for_link(token)
    if attachment is None:
        raise Http404(_("This link is not valid or has expired."))
    return attachment_response(attachment)
