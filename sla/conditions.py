"""What a policy's conditions may name, and how to show them.

`sla` only compares values (`selectors.policy_matches`); the core knows what a tier, a
channel, a team or a category is. It registers, in its `AppConfig.ready`, a function giving
each key's choices as (stored value, label), so the policy editor offers them as form fields
and the policy list names them in the reader's language. A key without registered choices
(tags) is free text.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

ConditionChoices = Callable[[], list[tuple[str, str]]]

_CHOICES: dict[str, ConditionChoices] = {}


def condition_choices_register(*, key: str, choices: ConditionChoices) -> None:
    """Name the values a condition key may take (called by the core at start-up)."""
    _CHOICES[key] = choices


def condition_choices(key: str) -> list[tuple[str, str]]:
    """The registered (value, label) pairs of a key; empty when none are registered."""
    provider = _CHOICES.get(key)
    return list(provider()) if provider is not None else []


def condition_key_labels() -> dict[str, str]:
    return {
        "tier": _("Tier"),
        "channel": _("Channel"),
        "team": _("Team"),
        "category": _("Category"),
        "vip": _("VIP"),
        "tags": _("Tags"),
    }


def conditions_describe(conditions: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A policy's conditions as (key label, values' labels) pairs, in the active language;
    a value nobody registered is shown as stored."""
    keys = condition_key_labels()
    described = []
    for key, wanted in conditions.items():
        if key == "vip":
            text = _("VIP only") if wanted else _("not VIP")
        else:
            labels = {str(value): label for value, label in condition_choices(key)}
            values = wanted if isinstance(wanted, list) else [wanted]
            text = ", ".join(labels.get(str(value), str(value)) for value in values)
        described.append((keys.get(key, key), text))
    return described
