"""The style-variation test of issue 11: corpus scripts written in other styles still rewrite.

* every transformer of ``benchmarks/rewrite_variants.py`` on a fixture (input snippet, expected
  output), and where it must not apply;
* the equivalence check itself: generated variants of corpus cases write the same bytes and fit
  the same X and y as their originals (the scripts really run), and a changed script is caught;
* regressions: (case, kind) pairs whose variant comes out valid and declarative today still do,
  and the verdict holds up under the independent check.

Tests marked ``slow`` run only when selected (``pytest -m slow tests/test_style_variants.py``).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import rewrite_variants as rv  # benchmarks/ is not a package: imported from its folder

CORPUS = ROOT / "benchmarks" / "rewrite_corpus"


@pytest.fixture(autouse=True)
def _slow_only_when_selected(request: pytest.FixtureRequest) -> None:
    # pyproject's slow marker means "skipped unless selected": a slow test skips itself unless
    # the run's -m expression names slow tests
    if request.node.get_closest_marker("slow") and "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")


def variant(source: str, kind: str, csv_safe: bool = True) -> str | None:
    return rv.make_variant(textwrap.dedent(source), kind, rv.Context(csv_safe=csv_safe))


def same(code: str | None, expected: str) -> bool:
    return code is not None and code.strip() == textwrap.dedent(expected).strip()


# --------------------------------------------------------------------------------------------
# (a) one fixture per transformer
# --------------------------------------------------------------------------------------------

NEXT_SKIP = """
    with open("data/a.csv") as f:
        next(f)
        for line in f:
            rows.append(line)
"""


def test_header_readline_replaces_next_on_a_file() -> None:
    assert same(variant(NEXT_SKIP, "header_readline"), """
        with open("data/a.csv") as f:
            f.readline()
            for line in f:
                rows.append(line)
    """)


def test_header_readline_does_not_apply_to_a_csv_reader() -> None:
    source = """
        reader = csv.reader(open("data/a.csv"))
        header = next(reader)
        for r in reader:
            rows.append(r)
    """
    assert variant(source, "header_readline") is None


def test_header_next_replaces_readline_and_keeps_the_header_variable() -> None:
    source = """
        f = open("data/a.csv")
        header = f.readline()
        for line in f:
            rows.append(line)
    """
    assert same(variant(source, "header_next"), """
        f = open("data/a.csv")
        header = next(f)
        for line in f:
            rows.append(line)
    """)


def test_header_next_turns_a_slice_into_an_iterator() -> None:
    source = """
        for line in open("data/a.csv").readlines()[1:]:
            rows.append(line)
    """
    assert same(variant(source, "header_next"), """
        row_iter = iter(open("data/a.csv").readlines())
        next(row_iter)
        for line in row_iter:
            rows.append(line)
    """)


def test_header_lines_lists_the_rows_and_keeps_the_header() -> None:
    source = """
        reader = csv.reader(fh)
        header = next(reader)
        for r in reader:
            rows.append(r)
    """
    assert same(variant(source, "header_lines"), """
        reader = csv.reader(fh)
        lines = list(reader)
        header = lines[0]
        for r in lines[1:]:
            rows.append(r)
    """)


def test_header_flag_skips_the_first_row_with_a_fresh_flag() -> None:
    source = """
        first = "not a flag"
        with open("data/a.csv") as f:
            next(f)
            for line in f:
                rows.append(line)
    """
    assert same(variant(source, "header_flag"), """
        first = "not a flag"
        with open("data/a.csv") as f:
            first_2 = True
            for line in f:
                if first_2:
                    first_2 = False
                    continue
                rows.append(line)
    """)


def test_for_as_while_reads_lines_until_the_end() -> None:
    assert same(variant(NEXT_SKIP, "for_as_while"), """
        with open("data/a.csv") as f:
            next(f)
            while True:
                line = f.readline()
                if not line:
                    break
                rows.append(line)
    """)


def test_for_as_while_leaves_loops_over_other_iterables() -> None:
    assert variant("for r in csv.reader(f):\n    rows.append(r)\n", "for_as_while") is None


def test_split_as_csv_reader_on_safe_data() -> None:
    source = """
        import os
        for line in open("data/a.csv"):
            a, b = line.strip().split(";")
            rows.append((a, b))
    """
    assert same(variant(source, "split_as_csv_reader"), """
        import os
        import csv

        for row in csv.reader(open("data/a.csv"), delimiter=';'):
            a, b = row
            rows.append((a, b))
    """)


def test_split_as_csv_reader_needs_quote_free_data_and_one_use_of_the_line() -> None:
    source = """
        for line in open("data/a.csv"):
            a, b = line.strip().split(",")
    """
    assert variant(source, "split_as_csv_reader", csv_safe=False) is None
    used_twice = """
        for line in open("data/a.csv"):
            a, b = line.strip().split(",")
            print(line)
    """
    assert variant(used_twice, "split_as_csv_reader") is None


def test_body_to_helper_moves_parsing_and_guards_into_a_function() -> None:
    source = """
        for line in f:
            n += 1
            a, b = line.strip().split(",")
            if a == "":
                continue
            x = float(b)
            rows.append((a, x))
    """
    assert same(variant(source, "body_to_helper"), """
        def parse_row(line):
            a, b = line.strip().split(",")
            if a == "":
                return None
            x = float(b)
            return a, b, x
        for line in f:
            n += 1
            parsed = parse_row(line)
            if parsed is None:
                continue
            a, b, x = parsed
            rows.append((a, x))
    """)


def test_body_to_helper_refuses_a_name_read_before_the_helper_assigns_it() -> None:
    # inside the helper `total` would be an unbound local
    assert variant("for v in values:\n    x = total + v\n    total = x\n", "body_to_helper") is None


def test_rename_variables_is_consistent_and_never_clobbers() -> None:
    source = """
        import numpy as np
        records = 1
        rows = []
        def add(row):
            rows.append(row + records)
        for line in ["a"]:
            add(line)
        X = np.array(rows)
    """
    assert same(variant(source, "rename_variables"), """
        import numpy as np
        my_records = 1
        records_2 = []
        def add(row):
            records_2.append(row + my_records)
        for raw_line in ["a"]:
            add(raw_line)
        features = np.array(records_2)
    """)


def test_display_exprs_after_frames_arrays_and_filled_lists() -> None:
    source = """
        df = pd.read_csv("data/a.csv")
        df.dropna(inplace=True)
        rows = []
        for v in df["a"]:
            rows.append(v)
        X = np.array(rows)
    """
    assert same(variant(source, "display_exprs"), """
        df = pd.read_csv("data/a.csv")
        df.head()
        df.shape
        df.dropna(inplace=True)
        rows = []
        for v in df["a"]:
            rows.append(v)
        print(len(rows))
        X = np.array(rows)
        X.shape
    """)


def test_every_kind_has_a_fixture_test() -> None:
    tested = {kind for kind in rv.KINDS if f'"{kind}"' in Path(__file__).read_text().split("# (b)", 1)[0]}
    assert tested == set(rv.KINDS)


# --------------------------------------------------------------------------------------------
# (b) generated variants are equivalent to their originals (the scripts run)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("variants")


@pytest.mark.parametrize("case, expected", [
    # (case, kinds that must apply there): loops with a header skip, a pandas script
    ("bank_transactions_join", {"header_flag", "split_as_csv_reader", "body_to_helper"}),
    pytest.param("bank_transactions_join", {"header_readline", "header_lines", "for_as_while", "rename_variables",
                                            "display_exprs"}, marks=pytest.mark.slow, id="bank_transactions_join-more"),
    ("sensors_readings_filter", {"header_lines", "body_to_helper"}),
    pytest.param("sensors_readings_filter", {"header_readline", "header_flag", "for_as_while", "rename_variables"},
                 marks=pytest.mark.slow, id="sensors_readings_filter-more"),
    pytest.param("hr_employees_minmax", {"rename_variables", "display_exprs"}, marks=pytest.mark.slow),
    pytest.param("nb_titanic_survival", {"rename_variables", "display_exprs"}, marks=pytest.mark.slow),
])
def test_variants_of_corpus_cases_are_equivalent(case: str, expected: set[str], workdir: Path) -> None:
    folder = rv.prepare_case(CORPUS / case, workdir, 50)
    original, found = rv.variants_of(folder, sorted(expected))
    assert original.observable, f"{case}: the original wrote nothing and fitted nothing"
    bugs = [(v.kind, v.reason) for v in found if v.status == "generator_bug"]
    assert not bugs, f"{case}: variants that are not equivalent: {bugs}"
    assert {v.kind for v in found if v.status == "equivalent"} == expected
    for v in found:  # the variant really is another script
        assert v.source != (folder / "messy.py").read_text()


def test_the_equivalence_check_catches_a_changed_script(workdir: Path) -> None:
    folder = rv.prepare_case(CORPUS / "sensors_readings_filter", workdir / "changed", 50)
    original = rv.observe(folder)
    script = folder / "messy.py"
    script.write_text(script.read_text().replace("t * 9 / 5 + 32", "t * 9 / 5 + 31"))  # another formula
    assert rv.same_observations(original, rv.observe(folder)) == "written files differ: ['out/prepared.csv']"


def test_the_independent_check_pairs_rows_with_labels_in_any_row_and_column_order() -> None:
    import numpy as np

    onehot_a, onehot_b = np.array([1.0, 0, 1, 0, 0, 0]), np.array([0.0, 1, 0, 1, 0, 0])
    amount = np.array([3.5, 1.0, 2.0, 7.25, 0.5, 4.0])
    X, y = np.column_stack([onehot_a, onehot_b, amount]), np.array([1, 0, 0, 1, 0, 1])
    shuffled = [5, 3, 0, 4, 1, 2]
    # the module's rows in another order and its one-hot columns (same value counts) swapped
    assert rv._compare_xy(X, y, X[shuffled][:, [1, 0, 2]], y[shuffled], subset=False) is None
    wrong = y[shuffled].copy()
    wrong[[0, 3]] = wrong[[3, 0]]  # two labels on each other's rows
    found = rv._compare_xy(X, y, X[shuffled][:, [1, 0, 2]], wrong, subset=False)
    assert found is not None and found.startswith("X"), found
    assert rv._compare_xy(X, y, X[:, [0, 2]], y, subset=False).startswith("X: shape")


# --------------------------------------------------------------------------------------------
# (c) variants that rewrite valid and declarative today still do
# --------------------------------------------------------------------------------------------


def _rewrite_variant(case: str, kind: str, folder: Path) -> None:
    import lester as lt

    prepared = rv.prepare_case(CORPUS / case, folder, 200)
    code = rv.make_variant((prepared / "messy.py").read_text(), kind, rv.Context.for_case(prepared))
    assert code is not None, f"{kind} no longer applies to {case}"
    (prepared / "messy.py").write_text(code)
    seen = rv.observe(prepared)
    assert seen.error is None, seen.error
    result = lt.rewrite(prepared / "messy.py", engine="rules")
    assert result.status == "valid" and not result.report.opaque_steps, f"{case} {kind}: {result.report.message}"
    ok, how = rv.check_rewrite(prepared, result.code, seen)
    assert ok is True, f"{case} {kind}: the independent check says {how}"


@pytest.mark.parametrize("case, kind", [
    ("sensors_readings_filter", "for_as_while"),
    ("retail_orders_onehot", "display_exprs"),
])
def test_variant_still_rewrites_valid_and_declarative(case: str, kind: str, tmp_path: Path) -> None:
    _rewrite_variant(case, kind, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case, kind", [
    ("sensors_readings_filter", "header_readline"),
    ("sensors_readings_filter", "rename_variables"),
    ("bank_loans_three_sources", "rename_variables"),
    ("education_students_courses", "display_exprs"),
    ("insurance_notes_text", "rename_variables"),
    ("health_visits_left_join", "rename_variables"),
])
def test_more_variants_still_rewrite_valid_and_declarative(case: str, kind: str, tmp_path: Path) -> None:
    _rewrite_variant(case, kind, tmp_path)
