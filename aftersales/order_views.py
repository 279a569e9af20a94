"""Linking a ticket to one of its customer's orders from the ticket page."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.models import LinkHow, Order
from aftersales.services.order_links import ticket_order_link
from kefu.roles import Role, role_required
from tickets.selectors import ticket_for


@require_POST
@role_required(Role.AGENT)
def ticket_order_link_view(request: HttpRequest, number: str) -> HttpResponse:
    ticket = ticket_for(request.user, number)
    if ticket is None:
        raise Http404(_("No such ticket"))
    order = Order.objects.filter(
        number=request.POST.get("order", ""), customer_id=ticket.customer_id
    ).first()
    if order is None:
        raise Http404(_("No such order of this ticket's customer"))
    ticket_order_link(ticket=ticket, order=order, actor=request.user, how=LinkHow.AGENT)  # type: ignore[arg-type]
    messages.success(
        request, _("Order %(number)s is now this ticket's order.") % {"number": order.number}
    )
    return redirect("tickets:ticket", ticket.number)
