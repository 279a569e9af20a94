"""Demo data for embedded mode: teams, the demo logins and a few tickets in both languages.

The demo logins (agent, supervisor, admin) share the password `kefu-demo`: demo data only.
Running it again changes nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tickets.inbound import Identity, InboundMessage
from tickets.models import Agent, Channel, Customer, Department, RoutingRule, Team
from tickets.services.intake import intake_message
from tickets.services.workflow import ticket_add_note, ticket_reply, ticket_set_status

DEMO_PASSWORD = "kefu-demo"  # noqa: S105 — documented demo credential

TEAMS = [
    ("客服一组 Customer service", Department.CUSTOMER_SERVICE, True, None),
    ("技术支持 Tech support", Department.TECH_SUPPORT, False, "tech"),
    ("物流 Logistics", Department.LOGISTICS, False, "logistics"),
    ("售后 After-sales", Department.AFTER_SALES, False, "after_sales"),
]

# (message id, channel, identities, name, text, minutes ago)
MESSAGES = [
    (
        "demo-1",
        Channel.APP,
        [("app_user", "u1001"), ("phone", "13800138000")],
        "张伟",
        "你好，我昨天下单的草莓今天到了，打开发现有几颗发霉了，孩子已经吃了一颗，现在有点拉肚子。",
        50,
    ),
    ("demo-2", Channel.APP, [("app_user", "u1002")], "李娜", "请问会员积分怎么兑换优惠券？", 240),
    (
        "demo-3",
        Channel.SMS,
        [("phone", "+86 139-1234-5678")],
        "王芳",
        "订单 SO20261120-88 的快递三天了还没送到，物流一直显示在分拣中心。",
        30,
    ),
    (
        "demo-4",
        Channel.EMAIL,
        [("email", "emma.wilson@example.com")],
        "Emma Wilson",
        "Hi, I'd like to return the blender I bought last week, it makes a loud noise. "
        "How do I get a refund?",
        120,
    ),
    (
        "demo-5",
        Channel.APP,
        [("app_user", "u1003"), ("email", "tom@example.com")],
        "Tom Chen",
        "The app crashes every time I try to log in since the last update.",
        15,
    ),
    (
        "demo-6",
        Channel.APP,
        [("app_user", "u1001")],
        "张伟",
        "上个月买的牛奶已经退款了，谢谢。",
        60 * 24 * 20,
    ),
]


class Command(BaseCommand):
    help = "Load demo teams, users (password kefu-demo) and tickets. Idempotent."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--force",
            action="store_true",
            help="load the demo outside embedded mode too (demo logins with a public password)",
        )

    def handle(self, *args, force: bool = False, **options):  # type: ignore[no-untyped-def]
        if not (settings.EMBEDDED or force):
            raise CommandError(
                "seed_demo creates logins with a public password; it runs in embedded mode "
                "(KEFU_EMBEDDED=true) only, unless given --force."
            )
        with transaction.atomic():
            teams = self._teams()
            agents = self._users(teams)
        if Customer.objects.exists():
            self.stdout.write("demo data already present")
            return
        now = timezone.now()
        # Oldest first, so the earlier (resolved) ticket is history by the time the customer
        # writes again and the new message opens a ticket of its own.
        for message_id, channel, identities, name, text, minutes in sorted(
            MESSAGES, key=lambda row: -row[5]
        ):
            result = intake_message(
                inbound=InboundMessage(
                    channel=channel,
                    provider_id=message_id,
                    identities=[Identity(kind=kind, value=value) for kind, value in identities],
                    text=text,
                    name=name,
                    sent_at=now - timedelta(minutes=minutes),
                )
            )
            if message_id == "demo-6":
                ticket_reply(
                    ticket=result.ticket, author=agents["agent"], body="已为您办理，请查收退款。"
                )
                ticket_set_status(
                    ticket=result.ticket, status="resolved", actor=agents["agent"].user
                )
            if message_id == "demo-4":
                ticket_add_note(
                    ticket=result.ticket,
                    author=agents["supervisor"],
                    body="Check the order date first.",
                )
        self.stdout.write(self.style.SUCCESS("demo data loaded"))

    def _teams(self) -> dict[str, Team]:
        teams: dict[str, Team] = {}
        for name, department, is_default, category in TEAMS:
            team, _ = Team.objects.get_or_create(
                name=name, defaults={"department": department, "is_default": is_default}
            )
            teams[department] = team
            if category:
                RoutingRule.objects.get_or_create(category=category, defaults={"team": team})
        return teams

    def _users(self, teams: dict[str, Team]) -> dict[str, Agent]:
        User = get_user_model()
        people: list[tuple[str, str, str, list[str]]] = [
            # The front line answers delivery questions too: README's "Try it" posts one.
            ("agent", "小美 Mei", "agent", [Department.CUSTOMER_SERVICE, Department.LOGISTICS]),
            ("supervisor", "老陈 Chen", "supervisor", list(teams)),
            ("admin", "管理员 Admin", "admin", []),
            ("wuliu", "小刘 Liu", "agent", [Department.LOGISTICS]),
            ("shouhou", "小赵 Zhao", "agent", [Department.AFTER_SALES, Department.TECH_SUPPORT]),
        ]
        agents = {}
        for username, full_name, role, departments in people:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": full_name, "is_staff": role in ("admin", "supervisor")},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                if role == "admin":
                    user.is_superuser = True
                user.save()
            user.groups.add(Group.objects.get(name=role))
            if departments:
                agent, _ = Agent.objects.get_or_create(user=user)
                agent.teams.add(*(teams[d] for d in departments))
                agents[username] = agent
        return agents
