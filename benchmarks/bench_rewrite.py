"""How many corpus scripts does ``lester rewrite`` turn into validated pipelines, and how fast?

What is measured
----------------
For every case folder of the corpus (default ``benchmarks/rewrite_corpus/``; ``--corpus DIR``
takes any folder laid out the same way: ``<case>/messy.py``, ``<case>/make_data.py DIR ROWS``,
optionally ``<case>/expect.json``), the case is copied to a temporary folder, its data is
generated there with ``python make_data.py data ROWS`` (``--rows``, default 1000), and
:func:`lester.rewrite` runs on the copy with the chosen ``--engine`` (``auto`` by default: the
offline rules engine, and an LLM when one is configured through the environment or
``lester.toml``). The wall clock around ``rewrite(...)`` is the case's ``seconds``: analysis,
the engine, static checks, and the sandboxed runs of the script and of every candidate.

Per case the JSON records ``name``, ``engine`` (the engine whose module was kept), ``status``
(``valid``: validation ran and matched and every step keeps row provenance; ``reproduced``: it matched
but some step runs the script's code as opaque Python; ``invalid``: a candidate ran but differs; ``error``:
nothing could be validated, with ``message``), ``opaque_steps`` (steps that still run the
script's code as opaque Python), ``attempts``, ``seconds``, LLM calls and tokens. ``totals``
counts statuses, sums time and tokens, and gives the validated fraction and the median and
largest seconds per script. The first case also starts the warm sandbox parent (the process
that imports numpy, pandas, scikit-learn and lester once for all sandboxed runs), so its time
includes that one-off start; ``max_seconds_after_first`` leaves it out.

``--quick`` runs every fourth case (sorted by name) on 200 rows. ``--case NAME`` picks cases.

It prints a table and writes ``benchmarks/results/bench_rewrite.json`` (``--output`` to change).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from machine import machine_description
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "rewrite_corpus"
RESULTS = HERE / "results" / "bench_rewrite.json"


def cases(corpus: Path, names: list[str] | None) -> list[Path]:
    found = sorted(p for p in corpus.iterdir() if (p / "messy.py").is_file() and (p / "make_data.py").is_file())
    if names:
        missing = sorted(set(names) - {p.name for p in found})
        if missing:
            raise SystemExit(f"{corpus}: no cases named {missing}")
        found = [p for p in found if p.name in names]
    return found


def run_case(case: Path, rows: int, engine: str, timeout: float, max_repairs: int) -> dict:
    import lester as lt

    with tempfile.TemporaryDirectory(prefix=f"bench-rewrite-{case.name}-") as folder:
        work = Path(folder) / case.name
        shutil.copytree(case, work, ignore=shutil.ignore_patterns("data", "out", "__pycache__", ".lester"))
        made = subprocess.run([sys.executable, "make_data.py", "data", str(rows)], cwd=work,
                              capture_output=True, text=True, timeout=300, check=False)
        if made.returncode != 0:
            return {"name": case.name, "engine": None, "status": "error", "opaque_steps": 0, "attempts": 0,
                    "seconds": 0.0, "message": f"make_data.py failed: {made.stderr.strip()[-300:]}"}
        started = time.perf_counter()
        try:
            result = lt.rewrite(work / "messy.py", engine=engine, timeout=timeout, max_repairs=max_repairs)
        except Exception as exc:  # noqa: BLE001 - one case's failure is a result, not the end of the run
            return {"name": case.name, "engine": None, "status": "error", "opaque_steps": 0, "attempts": 0,
                    "seconds": round(time.perf_counter() - started, 2), "message": f"{type(exc).__name__}: {exc}"}
        seconds = time.perf_counter() - started
        report = result.report
        return {
            "name": case.name,
            "style": _style(case),
            "engine": report.engine,
            "status": result.status,
            "opaque_steps": len(report.opaque_steps),
            "attempts": len(report.attempts),
            "seconds": round(seconds, 2),
            "llm_calls": report.usage.calls,
            "tokens": report.usage.prompt_tokens + report.usage.completion_tokens,
            "message": report.message,
        }


def _style(case: Path) -> str:
    try:
        return json.loads((case / "expect.json").read_text()).get("style", "corpus")
    except (OSError, ValueError):
        return "corpus"


def totals(scripts: list[dict]) -> dict:
    """Counts by status; ``valid`` is valid and declarative (every step keeps row provenance),
    ``reproduced`` matched but keeps an opaque step. ``by_style`` splits them by case style."""
    count = len(scripts)
    by_status = {s: sum(1 for r in scripts if r["status"] == s) for s in ("valid", "reproduced", "invalid", "error")}
    styles = sorted({r.get("style", "corpus") for r in scripts})
    return {
        "scripts": count,
        **by_status,
        "valid_fraction": round(by_status["valid"] / count, 3) if count else None,
        "by_style": {style: {"scripts": sum(1 for r in scripts if r.get("style", "corpus") == style),
                             "valid": sum(1 for r in scripts if r.get("style", "corpus") == style
                                          and r["status"] == "valid")} for style in styles},
        "without_opaque_steps": sum(1 for r in scripts if r["status"] == "valid" and not r["opaque_steps"]),
        "opaque_steps": sum(r["opaque_steps"] for r in scripts),
        "attempts": sum(r["attempts"] for r in scripts),
        "seconds": round(sum(r["seconds"] for r in scripts), 2),
        "median_seconds": round(statistics.median(r["seconds"] for r in scripts), 2) if count else None,
        "max_seconds": max((r["seconds"] for r in scripts), default=None),
        "max_seconds_after_first": max((r["seconds"] for r in scripts[1:]), default=None),
        "llm_calls": sum(r.get("llm_calls", 0) for r in scripts),
        "tokens": sum(r.get("tokens", 0) for r in scripts),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of case folders")
    parser.add_argument("--quick", action="store_true", help="every fourth case, 200 rows")
    parser.add_argument("--case", action="append", dest="cases", help="run only this case (repeatable)")
    parser.add_argument("--engine", choices=["auto", "rules", "llm"], default="auto")
    parser.add_argument("--rows", type=int, default=None, help="rows generated per case (default 1000)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per sandboxed run")
    parser.add_argument("--max-repairs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)

    chosen = cases(args.corpus, args.cases)
    if args.quick and not args.cases:
        chosen = chosen[::4]
    rows = args.rows or (200 if args.quick else 1000)
    console = Console()
    scripts = []
    for case in chosen:
        console.print(f"[bold]{case.name}[/] ...", end=" ")
        record = run_case(case, rows, args.engine, args.timeout, args.max_repairs)
        scripts.append(record)
        colour = {"valid": "green", "invalid": "yellow", "reproduced": "yellow"}.get(record["status"], "red")
        console.print(f"[{colour}]{record['status']}[/] in {record['seconds']:.1f} s")

    table = Table("case", "status", "engine", "opaque steps", "attempts", "seconds", "tokens",
                  title=f"lester rewrite on {args.corpus} ({rows} rows, engine {args.engine})")
    for r in scripts:
        colour = {"valid": "green", "invalid": "yellow", "reproduced": "yellow"}.get(r["status"], "red")
        table.add_row(r["name"], f"[{colour}]{r['status']}[/]", str(r["engine"] or "-"), str(r["opaque_steps"]),
                      str(r["attempts"]), f"{r['seconds']:.1f}", str(r.get("tokens", 0)))
    summary = totals(scripts)
    console.print(table)
    styles = ", ".join(f"{s}: {v['valid']}/{v['scripts']}" for s, v in summary["by_style"].items())
    console.print(f"{summary['valid']}/{summary['scripts']} valid and declarative ({styles}), "
                  f"{summary['reproduced']} reproduced with opaque steps, {summary['invalid']} invalid, "
                  f"{summary['error']} errors, "
                  f"{summary['seconds']:.0f} s; per script median {summary['median_seconds']} s, "
                  f"max {summary['max_seconds_after_first']} s after the first "
                  f"({summary['max_seconds']} s with the sandbox parent's start)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "bench_rewrite",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "corpus": str(args.corpus), "engine": args.engine, "rows": rows, "quick": args.quick,
        "scripts": scripts, "totals": summary,
    }, indent=2) + "\n")
    console.print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
