from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from tickets.models import TokenScope
from tickets.services.tokens import token_issue


class Command(BaseCommand):
    help = (
        "Create an integration token with the scopes given and print it once (only its hash "
        "is stored). Scopes: " + ", ".join(TokenScope.values)
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name", help="who the token is for, e.g. shop-app")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            metavar="SCOPE",
            help="what the token may do; repeat for more than one: " + ", ".join(TokenScope.values),
        )

    def handle(self, *args, name: str, scopes: list[str], **options):  # type: ignore[no-untyped-def]
        if not scopes:
            raise CommandError(
                "give the token at least one --scope: " + ", ".join(TokenScope.values)
            )
        try:
            _token, key = token_issue(name=name, scopes=scopes, actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        except IntegrityError as error:
            raise CommandError(f"a token named {name!r} already exists") from error
        self.stdout.write(key)
