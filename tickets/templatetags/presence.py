"""`{% presence_switch %}`: the signed-in agent's status switch, for the header."""

from typing import Any

from django import template

from tickets.selectors import agent_for

register = template.Library()


@register.inclusion_tag("agent/_presence.html", takes_context=True)
def presence_switch(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"agent": agent_for(user) if user is not None else None, "request": request}
