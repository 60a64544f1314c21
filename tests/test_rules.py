"""The offline rules engine: each idiom script compiles to a pipeline that computes the same outputs.

Every test runs the original script on small generated data, runs the compiled pipeline
(``dataprep().to_pandas()``, ``encode_features().fit_transform``, ``extract_label``) and
compares: prepared rows as a multiset, X up to column order, y row by row.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from lester.rewrite.rules import OpaqueStep, RulesProgram, RulesUnsupported, compile_script
from tests.rules_harness import check_case, compare, run_original, run_pipeline

HERE = Path(__file__).parent
SCRIPTS = HERE / "data" / "rules"
CORPUS = HERE.parent / "benchmarks" / "rewrite_corpus"


def _write(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)


def _data_split_join_groupby(folder: Path, rng: random.Random) -> None:
    tiers = ["gold", "silver", "platinum", "basic"]
    _write(folder / "customers.csv", ["cid", "name", "tier"],
           [[f"c{i}", f" anna  {rng.choice(['meyer', 'smith'])}", rng.choice(tiers)] for i in range(40)])
    _write(folder / "regions.csv", ["cid", "region"], [[f"c{i}", rng.choice(["north", "south"])]
                                                       for i in range(0, 40, 3)])
    _write(folder / "orders.csv", ["oid", "cid", "amount"],
           [[f"o{i}", f"c{rng.randrange(50)}", f"{rng.uniform(-10, 120):.3f}"] for i in range(200)])


def _data_dictreader_features(folder: Path, rng: random.Random) -> None:
    rows = []
    for i in range(150):
        minutes = str(rng.randrange(1, 500)) if rng.random() > 0.1 else "n/a"
        text = " ".join(rng.choice(["Card", "blocked", "please", "HELP", "now"]) for _ in range(rng.randrange(1, 8)))
        rows.append([f"t{i}", f"{rng.randint(2019, 2023)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                     rng.choice(["mail", "phone", "chat", "fax"]), minutes, "  " + text,
                     rng.choice(["yes", "no"])])
    _write(folder / "tickets.csv", ["ticket_id", "opened", "channel", "minutes", "text", "escalated"], rows)


def _data_pandas_masks(folder: Path, rng: random.Random) -> None:
    _write(folder / "items.csv", ["item_id", "category", "price", "stock", "label", "shop_id"],
           [[i, rng.choice([" Food", "toys ", "Books", "garden"]), rng.randrange(100, 9000),
             rng.choice([0, 5, 30, 50]), "x" * rng.randrange(1, 9), rng.randrange(6)] for i in range(120)])
    _write(folder / "shops.csv", ["shop_id", "city"], [[s, rng.choice(["Berlin", "Paris"])] for s in range(4)])


def _data_union_lists(folder: Path, rng: random.Random) -> None:
    for month in ("jan", "feb"):
        _write(folder / f"meter_{month}.csv", ["meter", "value", "quality"],
               [[f"m{i}", f"{rng.uniform(0, 200):.2f}", rng.choice(["ok", " bad", "ok "])] for i in range(60)],
               delimiter=";")


def _data_nested_first_seen(folder: Path, rng: random.Random) -> None:
    _write(folder / "depots.csv", ["depot", "city"], [[f"d{i}", rng.choice(["Lyon", "Bonn", "Graz"])]
                                                      for i in range(6)])
    _write(folder / "trips.csv", ["trip", "depot", "km"], [[f"t{i}", f"d{rng.randrange(8)}", rng.randrange(900)]
                                                            for i in range(80)])


def _data_unsupported_while(folder: Path, rng: random.Random) -> None:
    _write(folder / "values.csv", ["key", "value"], [[f"k{i}", rng.randrange(100)] for i in range(30)])


def _data_prefix_header_label_loop(folder: Path, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    zones = ["north", "south", "east"]
    with open(folder / "stations.csv", "w") as f:
        f.write("# exported by the depot tool\ncode,zone,staffed\n")
        f.writelines(f"s{i},{rng.choice(zones)},{rng.randrange(2)}\n" for i in range(12))
    _write(folder / "bands.csv", ["zone", "band"], [["north", "peak"], ["east", "off"]])
    _write(folder / "trips.csv", ["trip", "start", "end", "minutes"],
           [[f"t{i}", f"s{rng.randrange(15)}", f"s{rng.randrange(15)}", rng.randrange(5, 90)] for i in range(120)])


def _data_dictreader_list_nested(folder: Path, rng: random.Random) -> None:
    _write(folder / "products.csv", ["sku", "shelf", "price"],
           [[f"P{i}", rng.choice(["A1", "B2"]), f"{rng.uniform(1, 30):.2f}"] for i in range(10)])
    _write(folder / "lines.csv", ["line_id", "sku", "qty"],
           [[f"l{i}", rng.choice([f"p{rng.randrange(13)}", f" P{rng.randrange(13)}"]),
             rng.choice(["", str(rng.randrange(1, 6))])] for i in range(150)])


def _data_get_is_none_join(folder: Path, rng: random.Random) -> None:
    _write(folder / "members.csv", ["mid", "plan", "age"],
           [[f"m{i}", rng.choice(["basic ", "gold", "flex"]), rng.randrange(18, 80)] for i in range(20)])
    _write(folder / "visits.csv", ["vid", "mid", "club"],
           [[f"v{i}", f"m{rng.randrange(26)}", rng.choice(["north", "south"])] for i in range(150)])


def _data_hand_statistics(folder: Path, rng: random.Random) -> None:
    _write(folder / "shifts.csv", ["shift_id", "worker", "hours", "rate"],
           [[f"s{i}", f"w{rng.randrange(9)}", rng.choice(["", f"{rng.uniform(2, 12):.1f}"]),
             f"{rng.uniform(12, 30):.2f}"] for i in range(140)])


def _data_lists_by_key_onehot_rows(folder: Path, rng: random.Random) -> None:
    _write(folder / "owners.tsv", ["oid", "city"], [[f"o{i}", rng.choice(["Oslo ", "Bergen"])] for i in range(10)],
           delimiter="\t")
    _write(folder / "units.tsv", ["unit", "oid", "kind", "rooms"],
           [[f"u{i}", f"o{rng.randrange(13)}", rng.choice(["Flat", "house", "STUDIO", "garage", "loft"]),
             rng.randrange(0, 6)] for i in range(160)], delimiter="\t")


def _data_row_dict_updates(folder: Path, rng: random.Random) -> None:
    _write(folder / "limits.csv", ["sensor", "limit"], [[f"x{i}", rng.randrange(20, 80)] for i in range(5)])
    for plant in ("north", "south"):
        _write(folder / f"readings_{plant}.csv", ["rid", "sensor", "value"],
               [[f"{plant}{i}", f"x{rng.randrange(5)}", f"{rng.uniform(-10, 100):.1f}"] for i in range(70)])


GENERATORS = {
    "row_dict_updates": _data_row_dict_updates,
    "lists_by_key_onehot_rows": _data_lists_by_key_onehot_rows,
    "get_is_none_join": _data_get_is_none_join,
    "hand_statistics": _data_hand_statistics,
    "prefix_header_label_loop": _data_prefix_header_label_loop,
    "dictreader_list_nested": _data_dictreader_list_nested,
    "split_join_groupby": _data_split_join_groupby,
    "dictreader_features": _data_dictreader_features,
    "pandas_masks": _data_pandas_masks,
    "union_lists": _data_union_lists,
    "nested_first_seen": _data_nested_first_seen,
    "unsupported_while": _data_unsupported_while,
}


def _run_both(name: str, folder: Path) -> tuple[RulesProgram, dict, dict]:
    GENERATORS[name](folder / "data", random.Random(7))
    script = SCRIPTS / f"{name}.py"
    original = run_original(script, folder)
    program = compile_script(script.read_text(), filename=f"{name}.py")
    candidate = run_pipeline(program.code, folder, original)
    return program, original, candidate


@pytest.mark.parametrize("name", ["split_join_groupby", "dictreader_features", "pandas_masks", "union_lists",
                                  "nested_first_seen", "prefix_header_label_loop", "dictreader_list_nested",
                                  "get_is_none_join", "hand_statistics", "lists_by_key_onehot_rows",
                                  "row_dict_updates"])
def test_idioms_compile_declaratively_and_match(name, tmp_path):
    program, original, candidate = _run_both(name, tmp_path)
    assert program.opaque_steps == [], program.notes
    assert compare(original, candidate) == []
    assert "lt.read_csv" in program.code


def test_joins_groupbys_and_outputs_are_dsl_operations(tmp_path):
    program, original, _candidate = _run_both("split_join_groupby", tmp_path)
    code = program.code
    assert program.sources == {"customers": "data/customers.csv", "regions": "data/regions.csv",
                               "orders": "data/orders.csv"}
    assert "lt.join(" in code and "how='left'" in code          # dict probe + .get(default)
    assert ".groupby('cid').agg(" in code                      # counts[k] = counts.get(k, 0) + 1
    assert any("join index" in note for note in program.notes)  # the unique-key assumption is stated
    assert len(original["prepared"]) > 0


def test_features_become_a_column_transformer(tmp_path):
    program, _original, _candidate = _run_both("dictreader_features", tmp_path)
    code = program.code
    assert "OneHotEncoder(" in code and "StandardScaler()" in code and "MinMaxScaler()" in code
    assert "def make_model(C=0.5, max_iter=300):\n    return LogisticRegression(C=C, max_iter=max_iter)" in code
    assert "def clean(text):" in code and "# collapse blanks" in code   # helpers keep their comments


def test_first_seen_categories_use_a_custom_encoder(tmp_path):
    program, _original, _candidate = _run_both("nested_first_seen", tmp_path)
    assert "FirstSeenOneHotEncoder()" in program.code


def test_unsupported_construct_becomes_an_opaque_step(tmp_path):
    program, original, candidate = _run_both("unsupported_while", tmp_path)
    assert program.opaque_steps and all(isinstance(s, OpaqueStep) for s in program.opaque_steps)
    step = program.opaque_steps[0]
    assert step.stage == "dataprep" and "While" in step.reason and step.lines[0] == 1
    assert compare(original, candidate) == []
    assert program.sources == {"values": "data/values.csv"}


def test_unsupported_construct_without_opaque_names_stage_and_lines():
    source = (SCRIPTS / "unsupported_while.py").read_text()
    with pytest.raises(RulesUnsupported) as caught:
        compile_script(source, filename="unsupported_while.py", allow_opaque=False)
    error = caught.value
    assert error.stage == "dataprep"
    assert error.lines == (8, 11)  # the while loop
    assert "unsupported_while.py, lines 8-11 (dataprep)" in str(error)


def test_unsupported_feature_code_names_the_feature_stage():
    source = (SCRIPTS / "dictreader_features.py").read_text().replace(
        "words = (words - words.mean()) / words.std()", "words = np.sort(words)")
    with pytest.raises(RulesUnsupported) as caught:
        compile_script(source, filename="f.py", allow_opaque=False)
    assert caught.value.stage == "encode_features"
    assert caught.value.lines[0] == 46  # words = np.sort(words)


def test_sql_only_where_python_semantics_match():
    program = compile_script(
        "import os\n"
        "out = open('out/prepared.csv', 'w')\n"
        "out.write('a,b,c,d\\n')\n"
        "for line in open('data/t.csv'):\n"
        "    a, b = line.strip().split(',')\n"
        "    n = int(a)\n"
        "    if n > 3 and b in ('x', 'y'):\n"
        "        out.write(f'{n // 2},{b.upper()},{n * 2},{len(b)}\\n')\n",
        filename="t.py")
    code = program.code
    assert "CAST(a AS BIGINT)" in code                          # int(text): same in DuckDB
    assert "(n > 3)" in code and "IN ('x', 'y')" in code         # comparisons, literal in-lists
    assert "lambda n: n // 2" in code                           # floor division stays Python
    assert "lambda b: b.upper()" in code                        # string functions stay Python
    assert "lambda b: len(b)" in code or "['b'], len)" in code    # len counts differently in SQL


@pytest.mark.parametrize("case", ["compliance_demo", "sensors_readings_filter", "reviews_text_lengths",
                                  "travel_bookings_clean", "insurance_notes_text"])
def test_corpus_cases_compile_and_match(case):
    if not (CORPUS / case / "messy.py").exists():
        pytest.skip(f"corpus case {case} not present")
    result = check_case(CORPUS / case, rows=300)
    assert result["ok"], result["problems"]
    if case == "compliance_demo":
        assert result["opaque"] is False, result["program"].notes


def test_header_prefix_is_a_filter_on_the_first_field_and_named_defaults(tmp_path):
    program, original, _candidate = _run_both("prefix_header_label_loop", tmp_path)
    code = program.code
    assert "starts_with(code, 'code') OR starts_with(code, '#')" in code   # line.startswith before the split
    assert code.count("lt.join(") == 3                                      # two look-ups in one guard + .get
    assert "'standard' if v is None else v" in code                         # .get(k, DEFAULT_BAND)
    assert "categories=[['north', 'south', 'east']]" in code                 # ZONES.index(...) one-hot
    assert 0 < len(original["prepared"]) < 120


def test_list_of_dictreader_rows_joins_in_a_nested_loop(tmp_path):
    program, original, _candidate = _run_both("dictreader_list_nested", tmp_path)
    assert "products_rows.columns" in program.code and "right_on='sku__p'" in program.code
    assert len(original["prepared"]) > 0


def test_get_then_is_none_guard_is_an_inner_join(tmp_path):
    program, original, _candidate = _run_both("get_is_none_join", tmp_path)
    assert "lt.join(" in program.code and "how='left'" not in program.code
    assert 0 < len(original["prepared"]) < 150


def test_hand_computed_statistics_become_scalers(tmp_path):
    program, _original, _candidate = _run_both("hand_statistics", tmp_path)
    code = program.code
    assert "StandardScaler()" in code and "SampleStandardScaler()" in code and "MinMaxScaler()" in code


def test_dict_of_lists_compound_guard_and_onehot_rows(tmp_path):
    program, original, _candidate = _run_both("lists_by_key_onehot_rows", tmp_path)
    code = program.code
    assert "(rooms_2 > 1)" in code and "(kind_2 <> 'garage')" in code and "lt.join(" in code  # and-chain in order
    assert "categories=[['flat', 'house', 'studio']]" in code                              # one-hot rows
    assert 0 < len(original["prepared"]) < 160


def test_row_dict_updates_become_columns_of_the_list(tmp_path):
    program, original, _candidate = _run_both("row_dict_updates", tmp_path)
    assert "project('over'" in program.code and "lambda _row_value:" in program.code
    assert {"over", "share", "sensor_over", "plant"} <= set(original["prepared"].columns)


def test_row_dict_update_after_a_filter_stays_opaque():
    source = (SCRIPTS / "row_dict_updates.py").read_text().replace(
        '    r["over"] = int', '    if r["value"] < 0:\n        continue\n    r["over"] = int')
    with pytest.raises(RulesUnsupported) as caught:
        compile_script(source, filename="r.py", allow_opaque=False)
    assert "skipped" in caught.value.reason
