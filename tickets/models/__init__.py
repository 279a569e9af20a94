"""The core's models, one module per kind of record; imported from here as
`tickets.models`."""

from tickets.models.access import AuditEntry, IntegrationToken, StatusAccessCode, TokenScope
from tickets.models.actions import (
    CustomField,
    CustomFieldType,
    Store,
    TicketLink,
    TicketMerge,
    TicketTransfer,
)
from tickets.models.awareness import AlertSettings
from tickets.models.calls import Call, CallCause, CallDirection, CallState
from tickets.models.customers import ContactIdentity, Customer, CustomerMerge, IdentityKind
from tickets.models.macros import Macro, MacroLanguage
from tickets.models.messages import Attachment, DeliveryStatus, Direction, Message
from tickets.models.notifications import Notification
from tickets.models.presence import AgentLevel, AgentStatus, ChannelCapacity, Skill, SkillKind
from tickets.models.search import TicketSearchDocument
from tickets.models.teams import Agent, Department, RoutingRule, Team
from tickets.models.tickets import (
    OPEN_STATUSES,
    PRIORITY_REGULAR,
    PRIORITY_URGENT,
    PRIORITY_VALUE_ADDED,
    PRIORITY_VIP,
    Channel,
    EventKind,
    SlaState,
    Status,
    Ticket,
    TicketEvent,
    TicketPromise,
)
from tickets.models.views import SavedView

__all__ = [
    "OPEN_STATUSES",
    "PRIORITY_REGULAR",
    "PRIORITY_URGENT",
    "PRIORITY_VALUE_ADDED",
    "PRIORITY_VIP",
    "Agent",
    "AgentLevel",
    "AgentStatus",
    "AlertSettings",
    "Attachment",
    "AuditEntry",
    "Call",
    "CallCause",
    "CallDirection",
    "CallState",
    "Channel",
    "ChannelCapacity",
    "ContactIdentity",
    "CustomField",
    "CustomFieldType",
    "Customer",
    "CustomerMerge",
    "DeliveryStatus",
    "Department",
    "Direction",
    "EventKind",
    "IdentityKind",
    "IntegrationToken",
    "Macro",
    "MacroLanguage",
    "Message",
    "Notification",
    "RoutingRule",
    "SavedView",
    "Skill",
    "SkillKind",
    "SlaState",
    "Status",
    "StatusAccessCode",
    "Store",
    "Team",
    "Ticket",
    "TicketEvent",
    "TicketLink",
    "TicketMerge",
    "TicketPromise",
    "TicketSearchDocument",
    "TicketTransfer",
    "TokenScope",
]
