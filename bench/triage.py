"""Triage classifiers: accuracy on the shared labelled data and time per message on one core.

    .venv/bin/python bench/triage.py

1. Bitext customer-service utterances (English, 27 intents): train on a stratified 80 %
   (seed 0), accuracy and macro-F1 on the held-out 20 %. Target: accuracy >= 0.99.
2. ChnSentiCorp hotel reviews (Chinese, positive/negative): the same. Target: accuracy >= 0.90.
3. The whole of `triage_text`'s work (category model, sentiment model, urgency rules) for
   10,000 messages, one at a time, pinned to one CPU core: p50 and p99 in ms. Target: p99 <= 5.
   The same in CPU time of the thread (`triage_cpu_ms_*`), and how busy the machine was
   meanwhile (`machine_busy_pct`, both cores): when other processes share the core, the wall
   time's tail is mostly their turn on it.

The data comes from KEFU_SHARED_DATA (default: ../shared/data beside the repository); without
it, parts 1 and 2 are skipped with the reason and part 3 runs on generated messages. No
database is needed. The last line of stdout is one JSON object with every figure.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

# One core, one BLAS thread: the figure is per core. Set before numpy is imported.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# Run as a script, bench/ would come first on sys.path, where bench/queue.py shadows the
# standard library's `queue` (which joblib imports): put the project root there instead.
_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() != _HERE)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
os.environ.setdefault("SECRET_KEY", "bench")

import django  # noqa: E402

django.setup()

from bench.common import busy_percent, machine_cpu  # noqa: E402
from kb import classifier  # noqa: E402
from kb.datasets import read_labelled_csv  # noqa: E402
from kb.rules import DEFAULT_CONFIG  # noqa: E402
from kb.sentiment import label_polarities  # noqa: E402
from kb.triage import TriageConfig, _triage  # noqa: E402

SHARED = Path(os.environ.get("KEFU_SHARED_DATA", ROOT.parent / "shared" / "data"))
BITEXT = SHARED / "labeled" / "bitext_customer_support" / "bitext_20k_utterances.csv"
CHNSENTICORP = SHARED / "labeled" / "chnsenticorp_htl" / "ChnSentiCorp_htl_all.csv"
N_MESSAGES = 10_000


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def held_out(
    path: Path, text: str, label: str
) -> tuple[classifier.LinearTextModel, dict, list[str]]:
    rows = read_labelled_csv(path, text_column=text, label_column=label)
    started = time.perf_counter()
    model, evaluation = classifier.train_and_evaluate(rows.texts, rows.labels)
    _train, test = classifier.stratified_split(rows.labels)
    figures = {
        "accuracy": evaluation.accuracy,
        "macro_f1": evaluation.macro_f1,
        "n_train": evaluation.n_train,
        "n_test": evaluation.n_test,
        "train_seconds": round(time.perf_counter() - started, 1),
        "classify_ms_p50": evaluation.ms_per_message_p50,
        "classify_ms_p99": evaluation.ms_per_message_p99,
    }
    log(path.name, figures)
    return model, figures, [rows.texts[i] for i in test]


def generated_messages(count: int) -> list[tuple[str, str]]:
    rng = random.Random(0)
    items = [
        "牛奶",
        "鸡蛋",
        "草莓",
        "牛排",
        "大米",
        "手机壳",
        "洗发水",
        "order",
        "parcel",
        "refund",
    ]
    templates = [
        ("{x}快递三天了还没到，物流一直不更新", "delivery"),
        ("买的{x}有质量问题，我要退货退款", "refund"),
        ("app登录不上去，{x}的订单也看不到", "account"),
        ("My {x} has not arrived yet, where is it?", "delivery"),
        ("I want a refund for the {x}, it was damaged", "refund"),
        ("I cannot log in to see my {x}", "account"),
    ]
    return [
        (template.format(x=rng.choice(items)), label)
        for template, label in (rng.choice(templates) for _ in range(count))
    ]


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    result: dict[str, object] = {"shared_data": str(SHARED)}
    messages: list[str] = []
    if BITEXT.exists() and CHNSENTICORP.exists():
        category_model, bitext, bitext_test = held_out(BITEXT, "utterance", "intent")
        sentiment_model, chnsenticorp, review_test = held_out(CHNSENTICORP, "review", "label")
        result["bitext_intent"] = bitext
        result["chnsenticorp_sentiment"] = chnsenticorp
        result["bitext_intent_accuracy"] = bitext["accuracy"]
        result["chnsenticorp_accuracy"] = chnsenticorp["accuracy"]
        pool = bitext_test + review_test
        result["skipped"] = None
    else:
        reason = f"shared data not found at {SHARED} (set KEFU_SHARED_DATA)"
        print(f"skipping Bitext and ChnSentiCorp: {reason}")
        result["skipped"] = reason
        synthetic = generated_messages(2_000)
        category_model = classifier.fit([t for t, _l in synthetic], [lb for _t, lb in synthetic])
        sentiment_model = classifier.fit(["很满意", "谢谢", "太差了", "失望"], ["1", "1", "0", "0"])
        pool = [t for t, _l in generated_messages(N_MESSAGES)]
    rng = random.Random(0)
    messages = [rng.choice(pool) for _ in range(N_MESSAGES)]

    config = TriageConfig(
        category_rules=DEFAULT_CONFIG.category_rules,
        urgency_rules=DEFAULT_CONFIG.urgency_rules,
        category_model=category_model,
        category_model_id=1,
        sentiment_model=sentiment_model,
        sentiment_model_id=2,
        sentiment_polarities=label_polarities(sentiment_model.labels),
    )
    for text in messages[:200]:  # warm up (jieba's dictionary, caches)
        _triage(text, config, is_vip=False, repeat_contacts=0)
    timings = []
    # CPU time of the thread beside the wall time: on a busy machine the wall time's tail is
    # mostly the time other processes held the core, the CPU time is the work itself.
    cpu_timings = []
    busy_before = machine_cpu()
    for text in messages:
        cpu_started = time.thread_time()
        started = time.perf_counter()
        _triage(text, config, is_vip=False, repeat_contacts=0)
        ended = time.perf_counter()
        cpu_timings.append((time.thread_time() - cpu_started) * 1000)
        timings.append((ended - started) * 1000)
    timings.sort()
    cpu_timings.sort()
    result["triage_messages"] = len(timings)
    result["triage_mean_chars"] = round(statistics.mean(len(m) for m in messages), 1)
    result["triage_ms_p50"] = round(timings[len(timings) // 2], 3)
    result["triage_ms_p99"] = round(timings[int(len(timings) * 0.99) - 1], 3)
    result["triage_cpu_ms_p50"] = round(cpu_timings[len(cpu_timings) // 2], 3)
    result["triage_cpu_ms_p99"] = round(cpu_timings[int(len(cpu_timings) * 0.99) - 1], 3)
    result["machine_busy_pct"] = busy_percent(busy_before, machine_cpu())
    result["targets"] = {
        "bitext_intent_accuracy": ">= 0.99",
        "chnsenticorp_accuracy": ">= 0.90",
        "triage_ms_p99": "<= 5",
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
