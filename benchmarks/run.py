"""Run the benchmark rows, print the table, write the results as JSON.

Usage::

    python -m benchmarks                      # every row, full sizes -> benchmarks/results.json
    python -m benchmarks --quick              # smoke run on tiny sizes (writes nothing)
    python -m benchmarks --only sparse_inference --only scaling
    python -m benchmarks --quick --output /tmp/quick.json

Each row checks correctness before it reports a speed; a row whose check fails shows
"correctness check FAILED" and no ratio. A row that raises is recorded as an error and
the others still run. The exit status is 1 if any row failed its check or raised.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Config, load_average, machine_info

ROWS = (
    "sparse_inference",
    "dictionary_learning",
    "posterior_sampling",
    "information",
    "training_overhead",
    "scaling",
)
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"


def fmt(value: float | None, unit: str = "") -> str:
    """Three significant digits, with the unit."""
    if value is None:
        return "-"
    return f"{value:.3g} {unit}".strip()


def spread(part: dict | None) -> str:
    if not part or part.get("min") is None:
        return ""
    return f" [{part['min']:.3g}-{part['max']:.3g}]"


def table(rows: list[dict]) -> str:
    """The results as a fixed-width text table (median [min-max] over repeats)."""
    head = ("row", "peer", "lvmkit", "ratio", "goal", "status")
    lines = []
    for r in rows:
        if "error" in r:
            lines.append(
                (r["name"], "-", "-", "-", "-", "ERROR: " + r["error"].splitlines()[-1])
            )
            continue
        peer, lv = r.get("peer"), r.get("lvmkit")
        lines.append(
            (
                r["name"],
                f"{peer['name']}: {fmt(peer['figure'], peer['unit'])}{spread(peer)}"
                if peer
                else "-",
                f"{fmt(lv['figure'], lv['unit'])}{spread(lv)}" if lv else "-",
                fmt(r.get("ratio")),
                r["goal"]["text"] if r.get("goal") else "-",
                r["status"] + (f" ({r['note']})" if r.get("note") else ""),
            )
        )
    widths = [max(len(str(x[i])) for x in [head, *lines]) for i in range(len(head))]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += [
        "  ".join(str(c).ljust(w) for c, w in zip(x, widths, strict=True))
        for x in lines
    ]
    return "\n".join(out)


def run_rows(cfg: Config, names: list[str], log=print) -> list[dict]:
    """Run the named rows in order, sharing one context; errors become error rows."""
    ctx: dict = {}
    results = []
    for name in names:
        mod = importlib.import_module(f"benchmarks.{name}")
        t0 = time.perf_counter()
        try:
            row = mod.run(cfg, ctx)
        except Exception as exc:  # a broken row must not hide the others
            row = {
                "name": name,
                "title": getattr(mod, "TITLE", name),
                "correct": False,
                "status": "error",
                "error": "".join(traceback.format_exception(exc)),
            }
        row["seconds"] = time.perf_counter() - t0
        log(f"[{name}] {row['status']} ({row['seconds']:.0f} s)", flush=True)
        for c in row.get("checks", []):
            log(
                f"    check {'ok  ' if c['passed'] else 'FAIL'} {c['name']}: "
                f"{c['value']:.3g} {c['relation']} {c['tolerance']:.3g}",
                flush=True,
            )
        results.append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    p.add_argument(
        "--only",
        action="append",
        choices=ROWS,
        metavar="NAME",
        help=f"run only this row (repeatable): {', '.join(ROWS)}",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON file to write (default: benchmarks/results.json for a full "
        "run of every row; nothing for --quick or --only)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads and sklearn n_jobs (default: all cores)",
    )
    args = p.parse_args(argv)
    # scikit-learn's worker processes inherit this: their ConvergenceWarnings (one per
    # patch that hits max_iter) would flood the console; the rows report the objective gap.
    os.environ["PYTHONWARNINGS"] = "ignore::UserWarning"
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    cfg = Config.quick_config() if args.quick else Config.full()
    names = [n for n in ROWS if not args.only or n in args.only]
    output = args.output
    if output is None and not args.quick and not args.only:
        output = DEFAULT_OUTPUT
    command = (
        "python -m benchmarks"
        + (" --quick" if args.quick else "")
        + "".join(f" --only {n}" for n in (args.only or []))
        + (f" --threads {args.threads}" if args.threads is not None else "")
    )
    info = machine_info()
    print(
        f"{command}\n{info['cpu']}, {info['cores']} cores, torch {info['torch']}, "
        f"sklearn {info['sklearn']}, {info['date']}",
        flush=True,
    )
    load_start, t0 = load_average(), time.perf_counter()
    rows = run_rows(cfg, names)
    result = {
        "command": command,
        "quick": cfg.quick,
        "machine": info,
        "load_average": {"start": load_start, "end": load_average()},
        "wall_seconds": time.perf_counter() - t0,
        "rows": rows,
    }
    print()
    print(table(rows))
    if output is not None:
        output.write_text(json.dumps(result, indent=1, default=float) + "\n")
        print(f"\nwrote {output.name}")
    return 0 if all(r.get("correct") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
