"""Run a benchmark alternately as Kefu is and with plain-Django variants, and compare.

    .venv/bin/python bench/ab.py --bench email --variant identities_insert --runs 3 -- --n 1000

Runs A (as is), B (with the variants), A, B, … each as its own process, so both see the same
machine in turn, and reads each run's last JSON line. `--variant` may be given several times:
each is measured on its own, in rotation (A, B1, B2, A, B1, B2, …). Prints, for every numeric
figure the runs share, the mean of A and of each B and B's change from A in percent; the last
line is JSON with the same. A variant whose figures differ by less than the runs vary is no
reason for the hand-tuned code (docs/adr/0005). Variants: bench/variants.
"""

import sys
from pathlib import Path

# Run as a script, bench/ would come first on sys.path, where bench/queue.py and
# bench/email.py shadow the standard library: put the project root there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() != ROOT / "bench")]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402


def run(bench: str, args: list[str], variants: str) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("BENCH_VARIANTS", None)
    if variants:
        env["BENCH_VARIANTS"] = variants
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{bench}.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"{bench} ({variants or 'as is'}) failed with {done.returncode}")
    return json.loads(lines[-1])


def numbers(figures: dict[str, object]) -> dict[str, float]:
    return {
        key: float(value)
        for key, value in figures.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def main() -> None:
    from bench.variants import SETTINGS_VARIANTS, VARIANTS, core, edge  # noqa: F401  (registers the variants)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", required=True, help="email, sms, intake, live, …")
    parser.add_argument(
        "--variant", required=True, action="append", help="comma-separated variant names"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="-- then the benchmark's options")
    args = parser.parse_args()
    known = {*VARIANTS, *SETTINGS_VARIANTS}
    unknown = [n for v in args.variant for n in v.split(",") if n not in known]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {sorted(known)}")
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    labels = ["as_is", *args.variant]
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    for index in range(args.runs):
        for label in labels:
            figures = numbers(run(args.bench, rest, "" if label == "as_is" else label))
            runs[label].append(figures)
            print(f"run {index + 1} {label}: {json.dumps(figures)}", file=sys.stderr, flush=True)
    shared = sorted(set.intersection(*(set(f) for r in runs.values() for f in r)))
    compared: dict[str, dict[str, dict[str, float | None]]] = {}
    for label in args.variant:
        compared[label] = {}
        print(f"== {label}: as is, variant, change %")
        for key in shared:
            a = statistics.fmean(f[key] for f in runs["as_is"])
            b = statistics.fmean(f[key] for f in runs[label])
            change = round(100 * (b - a) / a, 1) if a else None
            spread = (
                [round(f[key], 3) for f in runs["as_is"]],
                [round(f[key], 3) for f in runs[label]],
            )
            compared[label][key] = {
                "as_is": round(a, 3),
                "variant": round(b, 3),
                "change_percent": change,
            }
            print(
                f"{key:32} {a:12.3f} {b:12.3f} {change if change is not None else '-':>8}  {spread}"
            )
    print(json.dumps({"bench": args.bench, "runs": args.runs, "compared": compared, "all": runs}))


if __name__ == "__main__":
    main()
