"""The values an SLA policy's conditions may name, as the core describes a ticket to `sla`
(tickets.services.sla_clocks.sla_attributes): registered with `sla.conditions`."""

from kb.triage import CATEGORY_LABELS, category_label
from sla.conditions import condition_choices_register
from tickets.models import Channel, Team
from tickets.tiers import Tier


def _teams() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")]


def _categories() -> list[tuple[str, str]]:
    from kb.models import RuleKind, TriageRule

    codes = dict.fromkeys(str(code) for code in CATEGORY_LABELS)
    codes.update(
        dict.fromkeys(
            TriageRule.objects.filter(kind=RuleKind.CATEGORY).values_list("code", flat=True)
        )
    )
    return [(code, category_label(code)) for code in codes]


def sla_conditions_register() -> None:
    condition_choices_register(
        key="tier", choices=lambda: [(str(v), str(label)) for v, label in Tier.choices]
    )
    condition_choices_register(
        key="channel", choices=lambda: [(str(v), str(label)) for v, label in Channel.choices]
    )
    condition_choices_register(key="team", choices=_teams)
    condition_choices_register(key="category", choices=_categories)
