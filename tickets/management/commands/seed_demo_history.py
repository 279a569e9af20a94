"""Eight weeks of finished tickets for the embedded demo, so that the reports have a history
to show after `make run`: more contacts at the weekend and in the evening, the usual channel
and category mix, answers within minutes to hours, some reopened, some settled by the bot.

They are written straight into the tables (with their messages and trail, as if imported),
not taken in through intake: old tickets have nothing left to triage, route or time. All are
closed, so no queue shows them. Running it again changes nothing (their first messages carry
a provider id `demo-history:…`). Reports read them once the facts are rebuilt
(`facts_rebuild`).
"""

import random
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tickets.models import (
    Agent,
    Call,
    CallCause,
    CallDirection,
    CallState,
    Channel,
    Customer,
    Direction,
    EventKind,
    Message,
    Status,
    Team,
    Ticket,
    TicketEvent,
)
from tickets.numbers import ticket_number
from tickets.priority import priority_rank
from tickets.raw_sql import ticket_id_next
from tickets.routing import routing_table
from tickets.tiers import Tier

TAG = "demo-history"
DAYS = 56

# Customers: every family name with every given name (300 people), and a few in English.
NAMES = [
    *(
        family + given
        for family in "陈刘杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢"
        for given in "静洋帆敏磊婷昊丽浩琳军雪强佳峰"
    ),
    *("Lucy Chen", "Tom Baker", "Sarah Lee", "David Wong", "Anna Müller"),
]

# (category, weight, what customers write)
TOPICS: list[tuple[str, int, list[str]]] = [
    (
        "logistics",
        35,
        [
            "快递三天了还没到",
            "物流一直显示在分拣中心",
            "骑手说送到了但我没收到",
            "能不能改一下送货时间",
            "My order hasn't arrived yet",
        ],
    ),
    (
        "after_sales",
        30,
        [
            "收到的苹果有好几个烂了，要退款",
            "牛奶漏了一盒，申请补发",
            "买错规格了想换货",
            "退款什么时候到账",
            "The eggs arrived broken, I want a refund",
        ],
    ),
    ("tech", 10, ["App 一直闪退", "验证码收不到", "支付失败但钱扣了", "I can't log in"]),
    (
        "value_added",
        15,
        ["会员积分怎么兑换", "发票开错了抬头", "优惠券用不了", "How do I use my points?"],
    ),
    ("", 10, ["你好，在吗", "想咨询一下门店营业时间", "有没有礼盒装"]),
]
CHANNELS = [
    (Channel.APP, 35),
    (Channel.CHAT, 25),
    (Channel.PHONE, 15),
    (Channel.SMS, 10),
    (Channel.EMAIL, 10),
    (Channel.WEB, 5),
]
TIERS = [(Tier.REGULAR, 80), (Tier.VALUE_ADDED, 15), (Tier.URGENT, 5)]
# Contacts by hour of the day (a shop's customers write after work and at lunch).
HOURS = [1, 0, 0, 0, 0, 1, 2, 4, 6, 8, 9, 9, 10, 8, 7, 7, 7, 8, 9, 11, 12, 11, 7, 3]


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([item for item, _w in weighted], [w for _item, w in weighted])[0]


class Command(BaseCommand):
    help = "Eight weeks of finished demo tickets for the reports (embedded mode)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError("seed_demo_history writes demo data; it runs in embedded mode only.")
        if Message.objects.filter(provider_id__startswith=f"{TAG}:").exists():
            return
        agents_by_team = {
            team.pk: list(Agent.objects.filter(teams=team, user__groups__name="agent"))
            for team in Team.objects.all()
        }
        if not any(agents_by_team.values()):
            return
        rng = random.Random(20261203)  # the same history on every machine
        today = timezone.localdate()
        customers = [Customer.objects.create(name=name) for name in NAMES]
        table = routing_table()
        made = 0
        with transaction.atomic():
            for back in range(DAYS, 0, -1):
                day = today - timedelta(days=back)
                volume = rng.randint(8, 12) + (5 if day.weekday() >= 5 else 0)
                for _n in range(volume):
                    self._ticket(rng, day, customers, table, agents_by_team)
                    made += 1
                self._hang_ups(rng, day, customers)
        if options["verbosity"]:
            self.stdout.write(f"demo history: {made} tickets over {DAYS} days")

    def _ticket(
        self,
        rng: random.Random,
        day: Any,
        customers: list[Customer],
        table: Any,
        agents_by_team: dict[int, list[Agent]],
    ) -> None:
        hour = rng.choices(range(24), HOURS)[0]
        created = timezone.make_aware(
            datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60))),
            timezone.get_current_timezone(),
        )
        category, _weight, texts = rng.choices(TOPICS, [t[1] for t in TOPICS])[0]
        text = rng.choice(texts)
        channel = _pick(rng, CHANNELS)
        tier = _pick(rng, TIERS)
        team = table.team_for(category)
        agents = agents_by_team.get(team.pk, []) if team else []
        agent = rng.choice(agents) if agents else None
        customer = rng.choice(customers)
        bot_only = channel in (Channel.CHAT, Channel.APP) and rng.random() < 0.15
        reopened = not bot_only and rng.random() < 0.08
        # Minutes to the first answer: mostly minutes, now and then hours (a night, a rush).
        first = created + timedelta(minutes=max(1.0, rng.lognormvariate(2.6, 1.0)))
        resolved = first + timedelta(minutes=max(5.0, rng.lognormvariate(4.5, 1.2)))
        ticket = Ticket(
            subject=text[:200],
            status=Status.CLOSED,
            tier=tier,
            priority_rank=priority_rank(tier=tier, is_vip=False),
            category=category,
            channel=channel,
            customer=customer,
            team=team,
            assignee=None if bot_only else agent,
            created_at=created,
            first_response_at=None if bot_only else first,
            resolved_at=resolved,
            closed_at=resolved + timedelta(days=1),
            tags=[TAG],
            sentiment=round(rng.uniform(-0.8, 0.4), 3),
        )
        ticket.pk = ticket_id_next()
        ticket.number = ticket_number(opened_on=timezone.localdate(created), ticket_id=ticket.pk)
        ticket.save(force_insert=True)
        messages = [
            Message(
                ticket=ticket,
                direction=Direction.IN,
                channel=channel,
                body=text,
                provider_id=f"{TAG}:{ticket.pk}",
                sentiment=ticket.sentiment,
                created_at=created,
            )
        ]
        events = [TicketEvent(ticket=ticket, kind=EventKind.CREATED, data={}, created_at=created)]
        if bot_only:
            messages.append(
                Message(
                    ticket=ticket,
                    direction=Direction.OUT,
                    channel=channel,
                    body="您好，这个问题可以在「我的-订单」里查看处理进度。",
                    is_bot=True,
                    is_automatic=True,
                    created_at=created + timedelta(seconds=20),
                )
            )
        else:
            messages.append(
                Message(
                    ticket=ticket,
                    direction=Direction.OUT,
                    channel=channel,
                    author=agent,
                    body="您好，已经为您处理，请留意短信通知。",
                    created_at=first,
                )
            )
        if reopened:
            again = first + (resolved - first) / 2
            messages.append(
                Message(
                    ticket=ticket,
                    direction=Direction.IN,
                    channel=channel,
                    body="还是没有解决",
                    created_at=again,
                )
            )
            messages.append(
                Message(
                    ticket=ticket,
                    direction=Direction.OUT,
                    channel=channel,
                    author=agent,
                    body="抱歉，已经再次跟进，今天内给您答复。",
                    created_at=again + timedelta(minutes=10),
                )
            )
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=EventKind.REOPENED,
                    data={"from": Status.RESOLVED},
                    created_at=again,
                )
            )
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=EventKind.STATUS,
                data={"from": Status.OPEN, "to": Status.RESOLVED},
                created_at=resolved,
            )
        )
        Message.objects.bulk_create(messages)
        TicketEvent.objects.bulk_create(events)
        if channel == Channel.PHONE and agent is not None and not bot_only:
            # The call itself: answered after a short wait, a few minutes' talk.
            answered = created + timedelta(seconds=rng.randint(5, 60))
            talk = rng.randint(60, 600)
            Call.objects.create(
                call_id=f"{TAG}-{ticket.pk}",
                customer=customer,
                ticket=ticket,
                direction=CallDirection.IN,
                team=team,
                state=CallState.ENDED,
                cause=CallCause.NORMAL_CLEARING,
                answered_by=agent,
                started_at=created,
                answered_at=answered,
                ended_at=answered + timedelta(seconds=talk),
                duration=talk,
            )

    def _hang_ups(self, rng: random.Random, day: Any, customers: list[Customer]) -> None:
        """A few callers a day who gave up waiting (the staffing page's Erlang A learns their
        patience from these, docs/staffing.md)."""
        for index in range(rng.randint(1, 3)):
            started = timezone.make_aware(
                datetime.combine(day, time(rng.randint(9, 20), rng.randrange(60))),
                timezone.get_current_timezone(),
            )
            Call.objects.create(
                call_id=f"{TAG}-hang-up-{day.isoformat()}-{index}",
                customer=rng.choice(customers),
                direction=CallDirection.IN,
                state=CallState.ENDED,
                cause=CallCause.CANCEL,
                started_at=started,
                ended_at=started + timedelta(seconds=max(3.0, rng.expovariate(1 / 45))),
            )
