"""Plain-Django variants of the places where Kefu leaves the ORM or a library's public API,
for measuring each against the hand-tuned code it replaced (docs/adr/0005).

A variant is the straightforward version: the ORM call, the library's own class, DRF's own
behaviour. It is installed only in benchmark processes, by name, from the environment:

    BENCH_VARIANTS=identities_insert,channel_layer python bench/email.py

`bench_env` (bench/common.py) then starts every server and worker with
`bench.settings_variants`, whose app installs the named variants when Django is ready.
`bench/ab.py` runs a benchmark alternately with and without a variant and compares.
Kefu itself never imports this package.
"""

import os
import sys
from collections.abc import Callable

VARIANTS: dict[str, tuple[str, Callable[[], None]]] = {}


def variant(name: str, description: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def register(install: Callable[[], None]) -> Callable[[], None]:
        VARIANTS[name] = (description, install)
        return install

    return register


def requested() -> list[str]:
    names = [n.strip() for n in os.environ.get("BENCH_VARIANTS", "").split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS and n not in SETTINGS_VARIANTS]
    if unknown:
        raise RuntimeError(f"unknown bench variants: {unknown}; known: {sorted(VARIANTS)}")
    return names


# Variants that are a setting rather than code (applied by bench/settings_variants.py).
SETTINGS_VARIANTS = {
    "channel_layer": "channels_redis's own RedisChannelLayer instead of kefu.channel_layer's",
    "page_middleware": "without the pages' CSP and htmx middleware (a measurement only)",
}


def install_requested() -> list[str]:
    from bench.variants import core, edge  # noqa: F401  (registers the variants)

    names = requested()
    for name in names:
        if name in VARIANTS:
            VARIANTS[name][1]()
    if names:
        print(f"bench variants installed in {os.getpid()}: {names}", file=sys.stderr, flush=True)
    return names
