"""Factories for test data. Domain objects that have a service are made through it."""

import itertools
from collections.abc import Sequence

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tickets.inbound import Identity, InboundMessage
from tickets.models import Agent, AgentStatus, Channel, Department, Team
from tickets.services.intake import IntakeResult, intake_message
from tickets.services.tokens import token_issue

_ids = itertools.count(1)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    department = Department.CUSTOMER_SERVICE
    is_default = False


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


def make_agent(
    *,
    teams: list[Team],
    role: str = "agent",
    capacity: int = 20,
    status: str = AgentStatus.ONLINE,
) -> Agent:
    """An agent at work: online unless `status` says otherwise (presence itself is tested
    with agents made offline, as a new one is)."""
    user = UserFactory(role=role)
    agent = Agent.objects.create(user=user, capacity=capacity, status=status)
    agent.teams.set(teams)
    return agent


def app_message(
    *,
    text: str = "我的订单还没到",
    provider_id: str | None = None,
    user_id: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    channel: str = Channel.APP,
    name: str = "测试客户",
) -> InboundMessage:
    identities = []
    if user_id:
        identities.append(Identity(kind="app_user", value=user_id))
    if phone:
        identities.append(Identity(kind="phone", value=phone))
    if email:
        identities.append(Identity(kind="email", value=email))
    if not identities:
        identities.append(Identity(kind="app_user", value=f"u-{next(_ids)}"))
    return InboundMessage(
        channel=channel,
        provider_id=provider_id or f"msg-{next(_ids)}",
        identities=identities,
        text=text,
        name=name,
    )


def intake(**kwargs: object) -> IntakeResult:
    return intake_message(inbound=app_message(**kwargs))  # type: ignore[arg-type]


# What the shop's app backend is given: its messages, its users' conversations and devices.
SHOP_APP_SCOPES = ("inbound:app", "app:conversations", "app:push")


def issue_token(name: str = "shop-app", *, scopes: Sequence[str] = SHOP_APP_SCOPES) -> str:
    _token, key = token_issue(name=name, scopes=scopes, actor=None)
    return key
