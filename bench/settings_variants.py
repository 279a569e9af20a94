"""The settings a benchmark's processes run with when BENCH_VARIANTS names plain-Django
variants (bench/variants): the settings they would have run with (BENCH_BASE_SETTINGS),
plus the app that installs the variants, and the variants that are settings."""

import importlib
import os

_base = importlib.import_module(os.environ.get("BENCH_BASE_SETTINGS", "kefu.settings"))
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "bench.variants.apps.BenchVariantsConfig"]

_names = {n.strip() for n in os.environ.get("BENCH_VARIANTS", "").split(",")}
if "channel_layer" in _names and "default" in _base.CHANNEL_LAYERS:
    CHANNEL_LAYERS = {
        "default": {
            **_base.CHANNEL_LAYERS["default"],
            "BACKEND": "channels_redis.core.RedisChannelLayer",
        }
    }

if "page_middleware" in _names:
    MIDDLEWARE = [
        name
        for name in _base.MIDDLEWARE
        if name not in ("csp.middleware.CSPMiddleware", "django_htmx.middleware.HtmxMiddleware")
    ]
