"""A loop body moved into a helper of the script (``parsed = parse_row(line)``, ``if parsed is
None: continue``, ``a, b = parsed``) reads as the loop it was: the helper's body in the loop,
its rejections as filters, and only where that keeps the meaning exactly.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import numpy as np
import pandas as pd

import lester as lt
from lester.rewrite.rules.row_helpers import inline_row_helpers
from tests.rewrite_checks import SAVES_X_AND_Y, assert_valid_and_declarative


def _inlined(source: str) -> str:
    body = list(cst.parse_module(textwrap.dedent(source)).body)
    return cst.Module(inline_row_helpers(body, {})).code


def test_a_helper_rejecting_rows_in_try_except_becomes_continue() -> None:
    out = _inlined("""
        def parse_row(line):
            parts = line.strip().split(",")
            try:
                amount = float(parts[2])
            except ValueError:
                return None
            return parts[0], amount
        for line in lines:
            parsed = parse_row(line)
            if parsed is None:
                continue
            name, amount = parsed
            rows.append((name, amount))
    """)
    loop = out[out.index("for line in lines:"):]
    assert "except ValueError:\n        continue" in loop
    assert "name = parts[0]\n    rows.append((name, amount))" in loop
    assert "parse_row(" not in loop and "parsed" not in loop


def test_a_helper_whose_early_return_gives_a_value_stays_a_call() -> None:
    source = """
        def band(line):
            if line.startswith("#"):
                return "comment"
            return line.split(",")[0]
        for line in lines:
            kind = band(line)
            if kind is None:
                continue
            kinds.append(kind)
    """
    assert "kind = band(line)" in _inlined(source)


def test_a_rejected_row_the_caller_does_not_skip_stays_a_call() -> None:
    # the caller appends None for a rejected row: a ``continue`` would drop it
    source = """
        def parse_row(line):
            if not line.strip():
                return None
            return line.split(",")
        for line in lines:
            parsed = parse_row(line)
            rows.append(parsed)
    """
    assert "parsed = parse_row(line)" in _inlined(source)


def test_a_return_inside_the_helpers_own_loop_stays_a_call() -> None:
    source = """
        def first_number(line):
            for part in line.split(","):
                if part.isdigit():
                    return None
            return line
        for line in lines:
            found = first_number(line)
            if found is None:
                continue
            rows.append(found)
    """
    assert "found = first_number(line)" in _inlined(source)


def test_a_local_of_the_helper_does_not_clobber_the_scripts_name() -> None:
    out = _inlined("""
        def clean(value):
            parts = value.split("-")
            return parts[0]
        parts = ["kept"]
        for line in lines:
            code = clean(line)
            rows.append((code, parts))
    """)
    assert "clean_parts = line.split(\"-\")\n    code = clean_parts[0]" in out
    assert "rows.append((code, parts))" in out


def _script() -> str:
    return textwrap.dedent("""
        import os
        import numpy as np

        def parse_visit(line, min_fields=4):
            fields = line.rstrip("\\n").split(",")
            if len(fields) < min_fields:
                return None
            if fields[3].strip().lower() == "cancelled":
                return None
            try:
                minutes = float(fields[2])
            except ValueError:
                return None
            return fields[1].strip().upper(), minutes, 1 if fields[3].strip() == "done" else 0

        X, y = [], []
        with open("data/visits.csv") as f:
            next(f)
            for line in f:
                parsed = parse_visit(line)
                if parsed is None:
                    continue
                kind, minutes, done = parsed
                X.append([minutes, 1.0 if kind == "A" else 0.0])
                y.append(done)
    """) + SAVES_X_AND_Y


def test_a_script_parsing_rows_in_a_helper_is_valid_and_declarative(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(5)
    n = 160
    (tmp_path / "data").mkdir()
    minutes = np.where(rng.random(n) < 0.1, "n/a", rng.integers(1, 90, n).astype(str))
    pd.DataFrame({"id": range(n), "kind": rng.choice(["a", "B ", "A"], n), "minutes": minutes,
                  "status": rng.choice(["done", "open", " Cancelled"], n)}).to_csv(
        tmp_path / "data" / "visits.csv", index=False)
    (tmp_path / "s.py").write_text(_script())
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("s.py", engine="rules", timeout=120)
    assert_valid_and_declarative(result, matched=("X", "y"))
    assert "parse_visit" not in result.code


def test_parsed_then_none_dropped_is_one_loop_that_skips_the_rejected_rows() -> None:
    from lester.rewrite.rules.row_helpers import parse_then_drop_none

    body = list(cst.parse_module(textwrap.dedent("""
        def parse(line):
            parts = line.split(",")
            if len(parts) != 3:
                return None
            return parts[0], float(parts[2])
        records = [parse(l) for l in lines[1:]]
        print("junk:", sum(1 for r in records if r is None))
        records = [r for r in records if r is not None]
        total = len(records)
    """)).body)
    out = cst.Module(inline_row_helpers(parse_then_drop_none(body, {}), {})).code
    assert "records = []\nfor l in lines[1:]:" in out
    assert "if len(parts) != 3:\n        continue\n    records.append((parts[0], float(parts[2])))" in out
    assert "print(" not in out and "total = len(records)" in out


def test_a_list_read_between_map_and_filter_is_not_fused() -> None:
    from lester.rewrite.rules.row_helpers import parse_then_drop_none

    source = textwrap.dedent("""
        def parse(line):
            return line.split(",") if line else None
        records = [parse(l) for l in lines]
        rejected = len(records)
        records = [r for r in records if r is not None]
    """)
    body = list(cst.parse_module(source).body)
    assert cst.Module(parse_then_drop_none(body, {})).code == cst.Module(body).code



def test_a_helper_defined_inside_the_with_block_is_inlined_too() -> None:
    out = _inlined("""
        with open("data/c.csv") as f:
            def parse_row(line):
                code, amount = line.strip().split(",")
                return code, amount
            for line in f:
                code, amount = parse_row(line)
                rows.append((code, float(amount)))
    """)
    assert "for line in f:\n        code, amount = line.strip().split(\",\")\n        rows.append" in out
