"""`make run`: one process with everything a demo needs, on SQLite and nothing else."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from kefu.ticker import ticker_start


class Command(BaseCommand):
    help = "Migrate, load demo data, start the in-process ticker and serve HTTP + websockets."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-demo", action="store_true", help="skip the demo data")

    def handle(self, *args, addrport: str, no_demo: bool, **options):  # type: ignore[no-untyped-def]
        _local_folders_make()
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo:
            call_command("seed_demo")
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


def _local_folders_make() -> None:
    """The SQLite file's folder (SQLite makes the file, not the folder) and STATIC_ROOT (the
    static files middleware warns when it is missing; `collectstatic` makes it elsewhere)."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
