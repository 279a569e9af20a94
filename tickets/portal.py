"""Who the customer on the self-service page is: the customer a one-time code proved
(tickets.services.portal). Apps above the core call `portal_customer` on their own
self-service pages."""

from django.http import HttpRequest

from tickets.models import Customer

# The session key holding the proven customer's id.
SESSION_KEY = "kefu_status_customer"
# The ticket or order number a code was last asked for, until the code is entered.
NUMBER_SESSION_KEY = "kefu_status_number"


def portal_customer(request: HttpRequest) -> Customer | None:
    """The customer this browser proved with a one-time code, or None (never proved, signed
    out, or the record was since merged into another or erased: they prove themselves
    again)."""
    if hasattr(request, "_kefu_portal_customer"):
        cached: Customer | None = request._kefu_portal_customer
        return cached
    customer_id = request.session.get(SESSION_KEY)
    customer = None
    if isinstance(customer_id, int) and not isinstance(customer_id, bool):
        customer = Customer.objects.filter(
            pk=customer_id, merged_into__isnull=True, erased_at__isnull=True
        ).first()
    request._kefu_portal_customer = customer  # type: ignore[attr-defined]
    return customer


def portal_sign_in(request: HttpRequest, customer: Customer) -> None:
    """Hold `customer` in this browser's session, under a new session key."""
    request.session.pop(NUMBER_SESSION_KEY, None)
    request.session[SESSION_KEY] = customer.pk
    request.session.cycle_key()
    request._kefu_portal_customer = customer  # type: ignore[attr-defined]


def portal_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(NUMBER_SESSION_KEY, None)
    request.session.cycle_key()
    request._kefu_portal_customer = None  # type: ignore[attr-defined]
