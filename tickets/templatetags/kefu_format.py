from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def business_duration(seconds: int) -> str:
    """Business seconds as `2h 05m` (sign dropped: the template says overdue or left)."""
    total = abs(int(seconds))
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    if hours:
        return _("%(h)dh %(m)02dm") % {"h": hours, "m": minutes}
    return _("%(m)dm") % {"m": minutes}
