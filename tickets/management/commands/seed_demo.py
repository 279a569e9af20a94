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
from tickets.models import (
    Agent,
    Channel,
    Customer,
    CustomField,
    CustomFieldType,
    Department,
    Macro,
    RoutingRule,
    Store,
    Team,
)
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
# Shops where customers come to the counter (tickets opened by hand, channel "store").
STORES = [
    ("徐家汇店", "上海"),
    ("静安寺店", "上海"),
    ("三里屯店", "北京"),
    ("天河城店", "广州"),
]

# Fields agents fill in on tickets: (key, 中文, English, type, categories).
CUSTOM_FIELDS = [
    ("order_number", "订单号", "Order number", CustomFieldType.TEXT, []),
    ("sku", "商品编码", "SKU", CustomFieldType.TEXT, ["after_sales", "logistics"]),
    ("refund_amount", "退款金额", "Refund amount", CustomFieldType.NUMBER, ["after_sales"]),
]

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


# Shared macros: (name, language, text, team department or None for everyone, set status,
# add tag, transfer to department).
MACROS: list[tuple[str, str, str, str | None, str, str, str | None]] = [
    (
        "问候 · 开场",
        "zh-hans",
        "{customer_name}您好，我是客服{agent_name}，很高兴为您服务。关于工单 {ticket_number}，"
        "我来帮您处理。",
        None,
        "",
        "",
        None,
    ),
    (
        "生鲜质量问题 · 退款",
        "zh-hans",
        "{customer_name}您好，非常抱歉给您带来不好的体验。订单 {order_number} 中有问题的商品，"
        "我们将为您全额退款，款项会在 1–3 个工作日内原路退回。\n\n"
        "为便于我们改进，请您：\n"
        "1. 拍一张商品照片回复给我们\n"
        "2. 保留外包装至退款完成\n\n"
        "如有其他问题，随时联系我们。",
        None,
        "pending_customer",
        "质量问题",
        None,
    ),
    (
        "物流延误 · 转物流组",
        "zh-hans",
        "{customer_name}您好，订单 {order_number} 的物流我们已联系快递公司加急处理，"
        "物流同事会在 24 小时内给您回复最新进度。",
        None,
        "",
        "物流延误",
        Department.LOGISTICS,
    ),
    (
        "结束 · 已解决",
        "zh-hans",
        "感谢您的耐心，{customer_name}！问题已处理完毕，如有其他需要请随时联系我们。祝您生活愉快！",
        None,
        "resolved",
        "",
        None,
    ),
    (
        "Greeting",
        "en",
        "Hi {customer_name}, this is {agent_name} from customer service. "
        "I'm looking into ticket {ticket_number} for you.",
        None,
        "",
        "",
        None,
    ),
    (
        "Return instructions",
        "en",
        "Hi {customer_name},\n\nTo return order {order_number}:\n"
        "1. Open the order in the app\n"
        "2. Tap “Return or refund” and choose the items\n"
        "3. Hand the parcel to any courier point within 7 days\n\n"
        "Your refund is issued as soon as we receive it.",
        Department.CUSTOMER_SERVICE,
        "pending_customer",
        "return",
        None,
    ),
    (
        "Closing · resolved",
        "en",
        "Thanks for your patience, {customer_name}! I've marked this as solved; just reply "
        "if anything else comes up.",
        None,
        "resolved",
        "",
        None,
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
            self._macros(teams, agents)
            self._stores_and_fields()
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

    def _stores_and_fields(self) -> None:
        for name, city in STORES:
            Store.objects.get_or_create(name=name, defaults={"city": city})
        for position, (key, label_zh, label_en, kind, categories) in enumerate(CUSTOM_FIELDS):
            CustomField.objects.get_or_create(
                key=key,
                defaults={
                    "label_zh": label_zh,
                    "label_en": label_en,
                    "type": kind,
                    "categories": categories,
                    "position": position,
                },
            )

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

    def _macros(self, teams: dict[str, Team], agents: dict[str, Agent]) -> None:
        for name, language, body, team, status, tag, transfer in MACROS:
            Macro.objects.get_or_create(
                name=name,
                owner=None,
                defaults={
                    "language": language,
                    "body": body,
                    "team": teams[team] if team else None,
                    "set_status": status,
                    "add_tag": tag,
                    "transfer_to": teams[transfer] if transfer else None,
                },
            )
        if "agent" in agents:
            Macro.objects.get_or_create(
                name="我的签名",
                owner=agents["agent"],
                defaults={
                    "language": "zh-hans",
                    "body": "—— 客服{agent_name}，工作时间 9:00–21:00",
                },
            )
