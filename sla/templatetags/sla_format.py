from typing import Any

from django import template

from sla.conditions import conditions_describe

register = template.Library()


@register.filter
def conditions_labelled(conditions: Any) -> list[tuple[str, str]]:
    """A policy's conditions as (key, values) labels in the reader's language."""
    return conditions_describe(conditions if isinstance(conditions, dict) else {})
