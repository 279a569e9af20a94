from django.apps import AppConfig


class BenchVariantsConfig(AppConfig):
    name = "bench.variants"
    label = "bench_variants"

    def ready(self) -> None:
        from bench.variants import install_requested

        install_requested()
