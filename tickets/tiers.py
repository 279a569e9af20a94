"""A ticket's priority tier, which chooses its SLA targets (urgent, regular, value-added).

The core's concept: the SLA engine sees a tier only as the value of a clock's `tier`
attribute, matched by policy conditions.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    REGULAR = "regular", _("Regular")
    VALUE_ADDED = "value_added", _("Value-added")
