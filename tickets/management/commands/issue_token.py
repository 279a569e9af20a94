from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from tickets.services.tokens import token_issue


class Command(BaseCommand):
    help = "Create an integration token and print it once (only its hash is stored)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("name", help="who the token is for, e.g. shop-app")

    def handle(self, *args, name: str, **options):  # type: ignore[no-untyped-def]
        try:
            _token, key = token_issue(name=name, actor=None)
        except IntegrityError as error:
            raise CommandError(f"a token named {name!r} already exists") from error
        self.stdout.write(key)
