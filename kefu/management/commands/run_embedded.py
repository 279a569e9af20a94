"""`make run`: one process with everything a demo needs, on SQLite and nothing else."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.exceptions import InconsistentMigrationHistory

from kefu.ticker import ticker_start


class Command(BaseCommand):
    help = "Migrate, load demo data, start the in-process ticker and serve HTTP + websockets."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-demo", action="store_true", help="skip the demo data")

    def handle(self, *args, addrport: str, no_demo: bool, **options):  # type: ignore[no-untyped-def]
        if not settings.EMBEDDED:
            raise CommandError(
                "run_embedded serves the local demo and needs KEFU_EMBEDDED=true "
                "(`make run` sets it); production runs gunicorn, daphne and Celery instead."
            )
        _local_folders_make()
        try:
            call_command("migrate", interactive=False, verbosity=0)
        except InconsistentMigrationHistory:
            self._demo_database_renew()
        if not no_demo:
            # The help centre first: the demo tickets' bot turns and suggestions read it.
            call_command("seed_demo_kb")
            call_command("seed_demo")
            call_command("seed_demo_orders", verbosity=0)
            call_command("seed_demo_quality", verbosity=0)
            call_command("seed_demo_complaints", verbosity=0)
            call_command("seed_demo_feedback", verbosity=0)
            # Weeks of finished tickets for the reports, and the facts they read.
            call_command("seed_demo_history", verbosity=0)
            call_command("seed_demo_sla_history", verbosity=0)
            call_command("seed_demo_survey_history", verbosity=0)
            # A scheduled after-sales report for the demo supervisor (/reports/scheduled/),
            # and six weeks of after-sales cases, before the facts are rebuilt from it all.
            call_command("seed_demo_reports", verbosity=0)
            call_command("facts_rebuild", verbosity=0)
            # The forecast and staffing pages: a roster, and a stored forecast of the history.
            call_command("seed_demo_shifts", verbosity=0)
            call_command("forecast_compute", verbosity=0)
            # The chat demo page (/chat/demo/) is served from this address.
            host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
            call_command("seed_demo_chat", origin=[f"http://{host}"], verbosity=0)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            ticker_start()
        self.stdout.write(
            f"Kefu at http://{addrport}/  (demo logins agent / supervisor / admin, "
            "password kefu-demo); chat widget demo at /chat/demo/"
        )
        call_command("runserver", addrport, use_reloader=False)

    def _demo_database_renew(self) -> None:
        """A demo database made before the migrations were squashed cannot be migrated: set it
        aside (renamed, not deleted) and start a fresh one."""
        database = settings.DATABASES["default"]
        if database["ENGINE"] != "django.db.backends.sqlite3":
            raise CommandError("The database's migration history does not match Kefu's migrations.")
        path = Path(database["NAME"])
        connections["default"].close()
        kept = path.with_name(path.name + ".old")
        path.replace(kept)
        self.stderr.write(
            f"{path} was made by an older Kefu whose migrations no longer exist; "
            f"it is kept as {kept} and a fresh demo database is made."
        )
        call_command("migrate", interactive=False, verbosity=0)


def _local_folders_make() -> None:
    """The SQLite file's folder (SQLite makes the file, not the folder) and STATIC_ROOT (the
    static files middleware warns when it is missing; `collectstatic` makes it elsewhere)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
