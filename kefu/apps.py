from django.apps import AppConfig


class KefuConfig(AppConfig):
    name = "kefu"
    verbose_name = "Kefu"

    def ready(self) -> None:
        from kefu import lookups  # noqa: F401  (registers `__in_ids`)
        from kefu.pg_loaders import utc_timestamps_connect

        utc_timestamps_connect()
