"""Money as shoppers read it: `{{ order.paid_amount|money:order.currency }}` gives ¥1,234.50."""

from decimal import Decimal

from django import template

from aftersales.order_timeline import TRACKING_WORDS

register = template.Library()

SYMBOLS = {"CNY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str = "CNY") -> str:
    if amount is None:
        return "—"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{currency} {amount:,.2f}"


@register.filter
def tracking_status(status: str) -> str:
    """A carrier event's status in words when it is one Kefu knows (else as the carrier
    wrote it)."""
    return str(TRACKING_WORDS.get(status, status))
