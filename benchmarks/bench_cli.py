"""How long does the ``lester`` command take to answer ``--help`` and a tab completion?

What is measured
----------------
Wall-clock time of a fresh process (a new Python interpreter each time, the operating system's
file cache warm: what a user's shell sees on every ``lester --help`` and every <TAB>):

* ``help``: ``python -m lester.cli --help`` (the figure the target is about, ``help_median_s``);
* ``script_help``: the installed ``lester --help`` console script (when it is beside Python);
* ``<command>_help``: ``python -m lester.cli <command> --help`` for each command;
* ``complete_commands``: bash completion of ``lester <TAB>`` through the console script
  (``_LESTER_COMPLETE=bash_complete``);
* ``version``: ``python -m lester.cli --version``;
* ``python`` and ``click``: ``python -c pass`` and ``python -c "import click"``, the floors no
  command can go under (compare with them on a loaded machine: the load average is recorded).

Each is the median of ``--repeats`` starts (default 10; ``--quick``: 3). ``rewrite --help`` loads
the rewriter's package (libcst, the rules engine) and is reported, not held to the target.

Target: ``help_median_s`` < 0.3 s.

How to run
----------
    python benchmarks/bench_cli.py            # prints a table, writes results/bench_cli.json
    python benchmarks/bench_cli.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import machine_description

RESULTS = Path(__file__).parent / "results"
TARGET_S = 0.3
COMMANDS = ("demo", "run", "runs", "show", "trace", "audit", "forget", "redact", "rewrite")


def _cases() -> dict[str, tuple[list[str], dict[str, str]]]:
    module = [sys.executable, "-m", "lester.cli"]
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "python": ([sys.executable, "-c", "pass"], {}),
        "click": ([sys.executable, "-c", "import click"], {}),
        "help": ([*module, "--help"], {}),
        "version": ([*module, "--version"], {}),
    }
    script = Path(sys.executable).parent / "lester"
    if script.exists():
        cases["script_help"] = ([str(script), "--help"], {})
        cases["complete_commands"] = ([str(script)], {"_LESTER_COMPLETE": "bash_complete",
                                                      "COMP_WORDS": "lester ", "COMP_CWORD": "1"})
    for command in COMMANDS:
        cases[f"{command}_help"] = ([*module, command, "--help"], {})
    return cases


def _time(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="cold starts per case (median reported)")
    parser.add_argument("--quick", action="store_true", help="3 starts per case")
    parser.add_argument("--output", type=Path, default=RESULTS / "bench_cli.json")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats

    cases = _cases()
    for argv, env in cases.values():  # one start each first: compiled bytecode, warm file cache
        _time(argv, env)
    medians: dict[str, float] = {}
    spreads: dict[str, tuple[float, float]] = {}
    for name, (argv, env) in cases.items():
        times = [_time(argv, env) for _ in range(repeats)]
        medians[name] = statistics.median(times)
        spreads[name] = (min(times), max(times))

    width = max(map(len, medians))
    print(f"{'case':<{width}}  median s   min s   max s")
    for name, median in medians.items():
        low, high = spreads[name]
        print(f"{name:<{width}}  {median:8.3f}  {low:6.3f}  {high:6.3f}")
    help_s = medians["help"]
    meets = help_s < TARGET_S
    print(f"\nlester --help: {help_s:.3f} s median of {repeats} cold starts "
          f"(target < {TARGET_S} s: {'met' if meets else 'NOT met'}); "
          f"{help_s - medians['python']:.3f} s over `python -c pass`, {help_s - medians['click']:.3f} s over "
          f"`import click`; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "benchmark": "bench_cli", "python": platform.python_version(), "machine": machine_description(),
        "repeats": repeats, "target_s": TARGET_S, "help_median_s": round(help_s, 4), "meets_target": meets,
        # what lester adds over the interpreter and click: the figures a loaded machine moves least
        "help_over_python_s": round(help_s - medians["python"], 4),
        "help_over_click_s": round(help_s - medians["click"], 4),
        "median_s": {k: round(v, 4) for k, v in medians.items()},
        "min_s": {k: round(v[0], 4) for k, v in spreads.items()},
        "max_s": {k: round(v[1], 4) for k, v in spreads.items()},
    }, indent=2) + "\n")
    print(f"results: {args.output}")
    return 0 if meets else 1


if __name__ == "__main__":
    sys.exit(main())
