from rest_framework import serializers

from tickets.masking import mask_text
from tickets.models import Status, Ticket


class MaskedTextField(serializers.CharField):
    """Free text written by a customer, with the personal numbers in it masked as on the
    agent's pages (tickets.masking)."""

    def to_representation(self, value: str) -> str:
        return mask_text(super().to_representation(value))


class TicketSerializer(serializers.ModelSerializer[Ticket]):
    subject = MaskedTextField(read_only=True)
    team = serializers.CharField(source="team.name", default=None)
    assignee = serializers.CharField(source="assignee.user.username", default=None)

    class Meta:
        model = Ticket
        fields = [
            "number",
            "subject",
            "status",
            "tier",
            "category",
            "channel",
            "team",
            "assignee",
            "sla_state",
            "sla_due_at",
            "created_at",
            "first_response_at",
        ]
        read_only_fields = fields


class QueuePageSerializer(serializers.Serializer[object]):
    results = TicketSerializer(many=True, source="tickets")
    next_cursor = serializers.CharField(allow_null=True)


class StatusChangeSerializer(serializers.Serializer[dict[str, str]]):
    status = serializers.ChoiceField(choices=Status.choices)


class StatusRefusalSerializer(serializers.Serializer[dict[str, str]]):
    code = serializers.CharField(help_text="close_guard: an app's close guard said no")
    detail = serializers.CharField()
