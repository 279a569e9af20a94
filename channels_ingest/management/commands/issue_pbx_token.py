"""`python manage.py issue_pbx_token NAME [--team TEAM] [--rotate]`: a PBX's webhook token.

Prints the token once; only its hash is stored.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError

from channels_ingest.models import Pbx
from channels_ingest.phone.services import pbx_issue, pbx_save_with_new_token
from tickets.models import Team


class Command(BaseCommand):
    help = "Register a PBX (or give it a new token with --rotate) and print its token once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the PBX's name in its webhook URL, e.g. office-pbx")
        parser.add_argument("--team", help="name of the team that hears unmapped queues")
        parser.add_argument(
            "--rotate", action="store_true", help="replace the token of an existing PBX"
        )

    def handle(
        self, *args: object, name: str, team: str | None, rotate: bool, **options: object
    ) -> None:
        default_team = None
        if team:
            default_team = Team.objects.filter(name=team).first()
            if default_team is None:
                raise CommandError(f"no team named {team!r}")
        if rotate:
            pbx = Pbx.objects.filter(name=name).first()
            if pbx is None:
                raise CommandError(f"no PBX named {name!r}")
            if default_team is not None:
                pbx.default_team = default_team
            key = pbx_save_with_new_token(pbx=pbx, actor=None)
        else:
            try:
                _pbx, key = pbx_issue(name=name, default_team=default_team, actor=None)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            except IntegrityError as error:
                raise CommandError(
                    f"a PBX named {name!r} exists; use --rotate for a new token"
                ) from error
        self.stdout.write(key)
