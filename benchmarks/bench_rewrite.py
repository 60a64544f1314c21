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

Style variants (``--variants``)
-------------------------------
With ``--variants`` every chosen case is also rewritten in the other styles people write it in
(``rewrite_variants.py``: header skipped another way, ``for`` as a ``readline`` loop, ``split``
as ``csv.reader``, the loop body in a helper, renamed variables, notebook displays added;
``--kind`` picks variations). Each variant is first run next to its original on the same data
and must write the same bytes and fit the same X and y; one that does not is a generator bug,
dropped and counted (``generator_bugs``), never a rewrite failure. Each equivalent variant is
rewritten like a case, and every ``valid`` verdict is checked independently
(``rewrite_variants.check_rewrite``: the module's stages run directly and compared with what the
variant wrote or fitted); a verdict that fails the check is a ``false_valid``. The JSON's
``variants`` section has the counts per kind and overall (``valid`` is valid and declarative),
the median seconds, and one row per failing (case, kind) with lester's reason.

It prints a table and writes ``benchmarks/results/bench_rewrite.json`` (``--output`` to change).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
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
    with tempfile.TemporaryDirectory(prefix=f"bench-rewrite-{case.name}-") as folder:
        work = Path(folder) / case.name
        shutil.copytree(case, work, ignore=shutil.ignore_patterns("data", "out", "__pycache__", ".lester"))
        made = subprocess.run([sys.executable, "make_data.py", "data", str(rows)], cwd=work,
                              capture_output=True, text=True, timeout=300, check=False)
        if made.returncode != 0:
            return {"name": case.name, "engine": None, "status": "error", "opaque_steps": 0, "attempts": 0,
                    "seconds": 0.0, "message": f"make_data.py failed: {made.stderr.strip()[-300:]}"}
        record, _ = rewrite_script(work / "messy.py", engine, timeout, max_repairs)
        return {"name": case.name, "style": _style(case), **record}


def rewrite_script(script: Path, engine: str, timeout: float, max_repairs: int) -> tuple[dict, str | None]:
    """``lester.rewrite`` on one script, timed: the case record's fields, and the module's code."""
    import lester as lt

    started = time.perf_counter()
    # every sandboxed run has its own timeout, but a rewrite once hung in this process (waiting on
    # the warm sandbox parent) and stopped the whole benchmark: the rewrite as a whole gets a limit
    limit = max(300.0, 3 * timeout)

    def _too_long(signum: int, frame: object) -> None:
        raise TimeoutError(f"the rewrite took longer than {limit:.0f} s")

    previous = signal.signal(signal.SIGALRM, _too_long)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        result = lt.rewrite(script, engine=engine, timeout=timeout, max_repairs=max_repairs)
    except Exception as exc:  # noqa: BLE001 - one case's failure is a result, not the end of the run
        return {"engine": None, "status": "error", "opaque_steps": 0, "attempts": 0,
                "seconds": round(time.perf_counter() - started, 2), "message": f"{type(exc).__name__}: {exc}"}, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - started
    report = result.report
    return {
        "engine": report.engine,
        "status": result.status,
        "opaque_steps": len(report.opaque_steps),
        "attempts": len(report.attempts),
        "seconds": round(seconds, 2),
        "llm_calls": report.usage.calls,
        "tokens": report.usage.prompt_tokens + report.usage.completion_tokens,
        "message": report.message,
    }, result.code


def run_variants(chosen: list[Path], rows: int, engine: str, timeout: float, max_repairs: int,
                 kinds: list[str], originals: dict[str, str], console: Console) -> dict:
    """Every variation of every chosen case, checked equivalent, rewritten, and its valid verdicts
    checked independently; returns the JSON's ``variants`` section."""
    import rewrite_variants as rv

    records: list[dict] = []
    bugs: list[dict] = []
    skipped: Counter = Counter()
    for case in chosen:
        with tempfile.TemporaryDirectory(prefix=f"bench-variants-{case.name}-") as folder:
            try:
                work = rv.prepare_case(case, Path(folder), rows)
                _, found = rv.variants_of(work, kinds, timeout=timeout)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                bugs.append({"case": case.name, "kind": "*", "reason": str(exc)[-300:]})
                console.print(f"[red]{case.name}: no variants[/] ({exc})")
                continue
            for variant in found:
                if variant.status == "not_applicable":
                    skipped[variant.kind] += 1
                    continue
                if variant.status == "generator_bug":
                    bugs.append({"case": case.name, "kind": variant.kind, "reason": variant.reason})
                    console.print(f"[bold]{case.name}[/] {variant.kind}: [red]generator bug[/] ({variant.reason})")
                    continue
                record, code = rewrite_script(variant.folder / "messy.py", engine, timeout, max_repairs)
                record = {"case": case.name, "kind": variant.kind, "original_status": originals.get(case.name),
                          **record, "false_valid": False, "check": None}
                if record["status"] == "valid" and code is not None:
                    ok, how = rv.check_rewrite(variant.folder, code, variant.observation, timeout=timeout)
                    record["false_valid"] = ok is False
                    record["check"] = how if ok is not None else f"unchecked: {how}"
                records.append(record)
                colour = "red" if record["false_valid"] else {"valid": "green"}.get(record["status"], "yellow")
                shown = "FALSE VALID: " + record["check"] if record["false_valid"] else record["status"]
                console.print(f"[bold]{case.name}[/] {variant.kind}: [{colour}]{shown}[/] "
                              f"in {record['seconds']:.1f} s")
    return {
        "kinds": kinds,
        "by_kind": {kind: variant_totals([r for r in records if r["kind"] == kind], skipped[kind],
                                         sum(1 for b in bugs if b["kind"] == kind)) for kind in kinds},
        "overall": variant_totals(records, sum(skipped.values()), len(bugs)),
        "failing": [{"case": r["case"], "kind": r["kind"], "status": r["status"],
                     "original_status": r["original_status"],
                     "reason": r["check"] if r["false_valid"] else r["message"]}
                    for r in records if r["false_valid"] or not _declarative(r)],
        "generator_bugs": bugs,
        "scripts": records,
    }


def _declarative(record: dict) -> bool:
    return record["status"] == "valid" and not record["opaque_steps"]


def variant_totals(records: list[dict], not_applicable: int, generator_bugs: int) -> dict:
    """Counts of one kind (or all): ``variants`` rewritten, ``valid`` (valid and declarative),
    ``reproduced``, ``invalid``, ``error``, ``false_valid``, ``unchecked_valid`` (valid verdicts the
    independent check had nothing to compare for), ``regressions`` (the original is valid and
    declarative, the variant is not), ``not_applicable``, ``generator_bugs``, median seconds."""
    count = len(records)
    by_status = {s: sum(1 for r in records if r["status"] == s) for s in ("reproduced", "invalid", "error")}
    valid = sum(1 for r in records if _declarative(r))
    return {
        "variants": count,
        "valid": valid,
        **by_status,
        "false_valid": sum(1 for r in records if r["false_valid"]),
        "unchecked_valid": sum(1 for r in records if (r["check"] or "").startswith("unchecked")),
        "regressions": sum(1 for r in records if r["original_status"] == "valid" and not _declarative(r)),
        "valid_fraction": round(valid / count, 3) if count else None,
        "median_seconds": round(statistics.median(r["seconds"] for r in records), 2) if count else None,
        "not_applicable": not_applicable,
        "generator_bugs": generator_bugs,
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
    parser.add_argument("--variants", action="store_true", help="also rewrite each case's style variants")
    parser.add_argument("--kind", action="append", dest="kinds", help="only this variation (repeatable)")
    args = parser.parse_args(argv)
    if args.kinds and not args.variants:
        parser.error("--kind needs --variants")

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
    results = {
        "benchmark": "bench_rewrite",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "corpus": str(args.corpus), "engine": args.engine, "rows": rows, "quick": args.quick,
        "scripts": scripts, "totals": summary,
    }
    if args.variants:
        import rewrite_variants as rv

        kinds = args.kinds or list(rv.KINDS)
        unknown = sorted(set(kinds) - set(rv.KINDS))
        if unknown:
            parser.error(f"unknown --kind {unknown}; choose from {sorted(rv.KINDS)}")
        originals = {r["name"]: ("valid" if _declarative(r) else r["status"]) for r in scripts}
        results["variants"] = run_variants(chosen, rows, args.engine, args.timeout, args.max_repairs, kinds,
                                           originals, console)
        print_variants(results["variants"], console)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {args.output}")
    return 0


def print_variants(section: dict, console: Console) -> None:
    table = Table("kind", "n", "valid", "reprod.", "invalid", "error", "false valid", "regress.", "median s",
                  "n/a", "gen. bugs", title="lester rewrite on the style variants (valid: and declarative)")
    rows = [*section["by_kind"].items(), ("overall", section["overall"])]
    for kind, t in rows:
        table.add_row(kind, str(t["variants"]), str(t["valid"]), str(t["reproduced"]), str(t["invalid"]),
                      str(t["error"]), str(t["false_valid"]), str(t["regressions"]), str(t["median_seconds"]),
                      str(t["not_applicable"]), str(t["generator_bugs"]))
    Console(width=max(console.width, 130)).print(table)
    reasons = Counter(_reason(f["reason"]) for f in section["failing"])
    for reason, n in reasons.most_common(10):
        console.print(f"{n:>4}  {reason}")


def _reason(message: str | None) -> str:
    """A failure message without its case-specific tail (line numbers, file names), to group by."""
    text = (message or "").split(" (lester_candidate", 1)[0]
    return text[:140]


if __name__ == "__main__":
    sys.exit(main())
