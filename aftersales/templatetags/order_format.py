"""Money as shoppers read it: `{{ order.paid_amount|money:order.currency }}` gives ¥1,234.50."""

from decimal import Decimal

from django import template

register = template.Library()

SYMBOLS = {"CNY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str = "CNY") -> str:
    if amount is None:
        return "—"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{currency} {amount:,.2f}"
