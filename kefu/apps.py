from django.apps import AppConfig


class KefuConfig(AppConfig):
    name = "kefu"
    verbose_name = "Kefu"
