"""A roster for the embedded demo's staffing page: a few agents on early and late shifts on
weekdays and two at the weekend, short of the need at some hours so the page has gaps to
show. They belong to no team and are never online, so assignment never picks them."""

from datetime import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from analytics.shifts import shift_set
from tickets.models import Agent

WEEKDAYS = {0, 1, 2, 3, 4}
WEEKEND = {5, 6}
# (username, name, days, start, end)
ROSTER = [
    ("wangfang", "王芳 Wang Fang", WEEKDAYS, time(9), time(17)),
    ("lijing", "李静 Li Jing", WEEKDAYS, time(9), time(17)),
    ("zhangwei", "张伟 Zhang Wei", WEEKDAYS, time(9), time(17)),
    ("liuyang", "刘洋 Liu Yang", WEEKDAYS, time(10), time(18)),
    ("chenjie", "陈杰 Chen Jie", WEEKDAYS, time(10), time(18)),
    ("yangmin", "杨敏 Yang Min", WEEKDAYS, time(10), time(18)),
    ("zhaolei", "赵磊 Zhao Lei", WEEKDAYS | WEEKEND, time(12), time(20)),
    ("huangli", "黄丽 Huang Li", WEEKEND, time(9), time(18)),
]


class Command(BaseCommand):
    help = "Demo agents with shift hours for the staffing page (embedded mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo_shifts writes demo data; it runs in embedded mode only.")
        User = get_user_model()
        for username, name, days, start, end in ROSTER:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": name}
            )
            if not created:
                continue
            user.set_unusable_password()
            user.save(update_fields=["password"])
            agent = Agent.objects.create(user=user, is_available=False)
            shift_set(agent=agent, weekdays=days, start=start, end=end, actor=None)
