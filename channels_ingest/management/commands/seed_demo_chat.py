"""The demo chat site (key `demo`) that /chat/demo/ embeds. Running it again only adds
origins. Separate from `seed_demo` because the core's command may not import this edge."""

from django.core.management.base import BaseCommand

from channels_ingest.chat.views import DEMO_SITE_KEY
from channels_ingest.models import ChatSite

DEFAULT_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")


class Command(BaseCommand):
    help = "Create the demo chat site used by /chat/demo/. Idempotent."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            help="another origin the demo page is served from, e.g. http://10.0.0.5:8000",
        )

    def handle(self, *args, origin: list[str], **options):  # type: ignore[no-untyped-def]
        wanted = {value.strip().rstrip("/").lower() for value in (*DEFAULT_ORIGINS, *origin)}
        site, created = ChatSite.objects.get_or_create(
            key=DEMO_SITE_KEY,
            defaults={"name": "Demo shop 演示商城", "allowed_origins": "\n".join(sorted(wanted))},
        )
        missing = wanted - site.origins()
        if missing:
            site.allowed_origins = "\n".join(sorted(site.origins() | missing))
            site.save(update_fields=["allowed_origins"])
        if options.get("verbosity", 1) > 0:
            state = "created" if created else "present"
            self.stdout.write(f"demo chat site {state}: {site.key} for {sorted(site.origins())}")
