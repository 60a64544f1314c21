"""Row loops in ordinary styles: a ``first = True`` header flag, ``csv.reader`` rows read by
position (``r[4].strip().lower()``), two-step unpacking of a split line, and casts guarded by
``or`` (SQL evaluates both operands, Python stops early).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import numpy as np
import pandas as pd

import lester as lt
from lester.rewrite.rules.compiler import compile_script
from lester.rewrite.rules.normalize import header_flags
from tests.rewrite_checks import SAVES_X_AND_Y, rewrite_declaratively

HEADS = {"data/c.csv": "id,name,kind,minutes,status,visits,member\n"}


def test_a_header_flag_becomes_a_skipped_first_row() -> None:
    body = list(cst.parse_module(textwrap.dedent("""
        first = True
        with open("data/c.csv") as f:
            reader = csv.reader(f)
            for n, r in enumerate(reader):
                if first:
                    first = False
                    continue
                rows.append(r)
        seen = True
        for line in lines:
            if seen:
                seen = False
                continue
            print(seen)
    """)).body)
    out = cst.Module(header_flags(body, {})).code
    assert "next(reader)\n    for n, r in enumerate(reader, 1):\n        rows.append(r)" in out
    assert "for line in lines:\n    if seen:" in out  # the flag is read again: not a header flag


def _script(loop_head: str, guard: str) -> str:
    return textwrap.dedent(f"""
        import csv
        import os
        import numpy as np
        minutes, labels = [], []
        first = True
        with open("data/c.csv") as fp:
            {loop_head}
                if first:
                    first = False
                    continue
                if r[4].strip().lower() == "cancelled":
                    continue
                if {guard}:
                    continue
                minutes.append(float(r[3]))
                labels.append(1 if r[6].strip().upper() == "Y" else 0)
        os.makedirs("out", exist_ok=True)
        np.save("out/X.npy", np.array(minutes).reshape(-1, 1))
        np.save("out/y.npy", np.array(labels))
    """)


def test_csv_rows_by_position_and_a_guarded_cast_compile_to_sql() -> None:
    program = compile_script(_script("for n, r in enumerate(csv.reader(fp)):", 'r[3] == "" or int(r[3]) <= 0'),
                             filename="s.py", allow_opaque=False, heads=HEADS)
    assert "usecols=[3, 4, 6]" in program.code
    assert "TRY_CAST(r_3 AS BIGINT)" in program.code  # Python never casts an empty r[3]


def test_a_loop_in_these_styles_is_valid(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(2)
    n = 150
    (tmp_path / "data").mkdir()
    pd.DataFrame({"id": range(n), "name": [f"p{i}" for i in range(n)], "kind": rng.choice(["a", "b"], n),
                  "minutes": np.where(rng.random(n) < 0.1, "", rng.integers(-5, 90, n).astype(str)),
                  "status": rng.choice(["ok", " Cancelled", "OK "], n), "visits": rng.integers(0, 9, n),
                  "member": rng.choice(["y", "N", "Y "], n)}).to_csv(tmp_path / "data" / "c.csv", index=False)
    (tmp_path / "s.py").write_text(_script("for n, r in enumerate(csv.reader(fp)):", 'r[3] == "" or int(r[3]) <= 0'))
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("s.py", engine="rules", timeout=120)
    assert result.status == "valid", result.report.text()
    assert not result.report.opaque_steps and not result.report.pandas_steps


def test_a_split_line_unpacked_in_a_second_step() -> None:
    program = compile_script(textwrap.dedent("""
        import numpy as np
        ages = []
        with open("data/c.csv") as f:
            next(f)
            for line in f:
                parts = line.strip().split(",")
                pid, name, kind, minutes, status, visits, member = parts
                if status == "ok":
                    ages.append(float(minutes))
        np.save("out/X.npy", np.array(ages).reshape(-1, 1))
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    assert "usecols=[0, 1, 2, 3, 4, 5, 6]" in program.code and not program.pandas_steps


LINES_SCRIPT = '''
import os
os.makedirs("out", exist_ok=True)
kept = []
f = open("data/w.txt")
header = f.readline()
while True:
    line = f.readline()
    if not line:
        break
    parts = line.rstrip("\\n").split(";")
    if len(parts) < 4:
        continue
    station, day, tmax, quality = parts
    if quality.strip().upper() == "S":
        continue
    try:
        tmax = float(tmax)
    except ValueError:
        continue
    kept.append((station, day, tmax))
f.close()
with open("out/prepared.csv", "w") as out:
    out.write("station,day,tmax\\n")
    for station, day, tmax in kept:
        out.write(f"{station},{day},{tmax}\\n")
'''


def test_a_loop_the_csv_reader_cannot_take_reads_raw_lines_and_forgetting_reaches_them(tmp_path, monkeypatch) -> None:
    rng = np.random.default_rng(8)
    (tmp_path / "data").mkdir()
    rows = ["station;day;tmax;quality"]
    for i in range(120):
        quality = rng.choice(["G", "s", "g"])
        tmax = rng.choice([f"{rng.normal(15, 5):.1f}", "n/a"], p=[0.9, 0.1])
        rows.append(f"ST{i % 7};2024-01-{i % 28 + 1:02d};{tmax};{quality}" if i % 11 else f"ST{i % 7};broken")
    (tmp_path / "data" / "w.txt").write_text("\n".join(rows) + "\n")
    (tmp_path / "s.py").write_text(LINES_SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = lt.rewrite("s.py", engine="rules", timeout=120)
    assert result.status == "valid", result.report.text()
    assert "lt.read_lines(" in result.code and not result.report.pandas_steps and not result.report.opaque_steps
    Path("pipeline.py").write_text(result.code)
    run = lt.run("pipeline.py", store=".lester", cache=False)
    first = int(run.train["prov:w"].iloc[0])  # the line's position after the header
    lt.forget("w", [first], store=".lester")
    new_rows = pd.concat([pd.read_parquet(p) for p in Path(".lester", "runs").glob("*/train.parquet")
                          if p.parent.name != run.run_id])
    assert first not in set(new_rows["prov:w"])


def test_a_constant_key_is_written_out_where_nothing_rebinds_it() -> None:
    from lester.rewrite.rules.normalize import constant_keys

    body = list(cst.parse_module(textwrap.dedent("""
        key = "agent_id"
        d[rec[key]] = rec[key]
        pairs = [r[key] for key in keys]
        for key in other:
            x = rec[key]
        y = rec[key]
    """)).body)
    out = [cst.Module([s]).code.strip() for s in constant_keys(body, {})]
    assert out[1] == 'd[rec["agent_id"]] = rec["agent_id"]'
    assert out[2] == "pairs = [r[key] for key in keys]"  # the comprehension's own key
    assert "x = rec[key]" in out[3] and out[4] == "y = rec[key]"  # rebound by the loop: unknown after


def test_the_last_row_per_key_kept_in_a_dict_is_a_deduplication() -> None:
    program = compile_script(textwrap.dedent("""
        import csv
        latest = {}
        with open("data/c.csv") as f:
            for rec in csv.DictReader(f):
                latest[rec["id"]] = rec
        rows = list(latest.values())
        with open("out/prepared.csv", "w") as out:
            w = csv.DictWriter(out, fieldnames=["id", "name"])
            w.writeheader()
            for r in rows:
                w.writerow({"id": r["id"], "name": r["name"]})
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    assert "drop_duplicates(subset=['id'], keep='last')" in program.code


def test_lines_listed_then_the_first_set_aside_as_the_header() -> None:
    program = compile_script(textwrap.dedent("""
        import numpy as np
        ages = []
        with open("data/c.csv") as f:
            lines = list(f)
            header = lines[0]
            for line in lines[1:]:
                pid, name, kind, minutes, status, visits, member = line.strip().split(",")
                ages.append(float(minutes))
        np.save("out/X.npy", np.array(ages).reshape(-1, 1))
    """), filename="s.py", allow_opaque=False, heads=HEADS)
    assert "header=0" in program.code and not program.pandas_steps


def test_a_seen_set_keeps_the_first_row_of_each_key() -> None:
    program = compile_script(textwrap.dedent("""
        import csv
        seen = set()
        kept = []
        with open("data/visits.csv") as f:
            for row in csv.DictReader(f):
                if row["kind"] == "x":
                    continue
                if row["id"] in seen:
                    continue
                seen.add(row["id"])
                kept.append((row["id"], row["minutes"]))
        with open("out/prepared.csv", "w") as out:
            out.write("id,minutes\\n")
            for i, minutes in kept:
                out.write(f"{i},{minutes}\\n")
    """), filename="s.py", allow_opaque=False, heads={"data/visits.csv": "id,kind,minutes,status\n"})
    assert "drop_duplicates(subset=['id'], keep='first')" in program.code
    # the filter before the guard decides which rows count as seen: it comes first
    assert program.code.index("(kind <> 'x')") < program.code.index("keep='first'")


STATISTIC_SCRIPT = '''
import csv
import os
import numpy as np


def to_float(s):
    try:
        return float(s)
    except ValueError:
        return None


with open("data/t.csv") as f:
    tickets = list(csv.DictReader(f))
# the yardstick over the whole export, before the filters below
resp_all = [to_float(t["resp"]) for t in tickets]
resp_all = [r for r in resp_all if r is not None]
avg_resp = sum(resp_all) / len(resp_all)
X, y = [], []
for t in tickets:
    if t["status"] == "spam":
        continue
    resp = to_float(t["resp"])
    if resp is None:
        continue
    X.append([resp / avg_resp, float(t["hour"])])
    y.append(1 if t["escalated"] == "yes" else 0)
''' + SAVES_X_AND_Y


def test_a_statistic_of_other_rows_used_per_row_is_joined_onto_each_row(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(4)
    n = 140
    tickets = pd.DataFrame({"id": range(n), "resp": np.where(rng.random(n) < 0.15, "n/a", rng.uniform(1, 30, n).round(2)),
                  "status": rng.choice(["open", "spam", "closed"], n), "hour": rng.integers(0, 24, n),
                  "escalated": rng.choice(["yes", "no"], n)})
    result = rewrite_declaratively(tmp_path, monkeypatch, STATISTIC_SCRIPT, {"t.csv": tickets}, matched=("X", "y"))
    assert ".aggregate(avg_resp" in result.code and "lt.join(" in result.code  # one number, on each row


HEADER_NAMES_SCRIPT = '''
import os
import numpy as np

lines = open("data/e.csv").read().splitlines()
header = lines[0].split(",")
i_score = header.index("score")
i_max = header.index("max_score")
i_final = header.index("final")
X, y = [], []
for line in lines[1:]:
    p = line.split(",")
    if p[i_score] == "abs":
        continue
    X.append([float(p[i_score]) / float(p[i_max])])
    y.append(float(p[i_final]))
''' + SAVES_X_AND_Y


def test_positions_looked_up_in_the_header_are_read_by_name(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(6)
    n = 120
    # the export's column order is not the one the script was written against
    exams = pd.DataFrame({"final": rng.uniform(1, 6, n).round(1), "id": range(n),
                  "score": np.where(rng.random(n) < 0.1, "abs", rng.integers(0, 50, n).astype(str)),
                  "max_score": 50})
    result = rewrite_declaratively(tmp_path, monkeypatch, HEADER_NAMES_SCRIPT, {"e.csv": exams}, matched=("X", "y"))
    assert "'score'" in result.code or '"score"' in result.code  # by name, not by position


APPENDED_FIELDS_SCRIPT = '''
import csv
import os
from collections import defaultdict

trips = []
with open("data/trips.csv") as f:
    reader = csv.reader(f)
    next(reader)
    for trip_id, driver, km, litres in reader:
        if litres == "":
            continue
        trips.append([trip_id, driver, float(km), float(litres)])
per_driver = defaultdict(int)
for tr in trips:
    per_driver[tr[1]] += 1
for tr in trips:
    tr.append(per_driver[tr[1]])
    tr.append(100 * tr[3] / tr[2])
os.makedirs("out", exist_ok=True)
with open("out/prepared.csv", "w") as out:
    out.write("trip_id,driver,km,litres,driver_trips,l_per_100km\\n")
    for tr in trips:
        out.write(",".join(str(v) for v in tr) + "\\n")
'''


def test_fields_appended_to_list_rows_are_columns_the_rows_keep(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(9)
    n = 100
    trips = pd.DataFrame({"trip_id": range(n), "driver": rng.choice(["ann", "bo", "cy"], n),
                  "km": rng.uniform(5, 300, n).round(1),
                  "litres": np.where(rng.random(n) < 0.1, "", rng.uniform(1, 30, n).round(2).astype(str))})
    rewrite_declaratively(tmp_path, monkeypatch, APPENDED_FIELDS_SCRIPT, {"trips.csv": trips}, matched=("prepared",))


def test_a_header_flag_that_keeps_the_header_line_reads_it_first() -> None:
    body = list(cst.parse_module(textwrap.dedent("""
        with open("data/c.csv") as f:
            first = True
            for line in f:
                if first:
                    first = False
                    header = line
                    continue
                rows.append(line)
        done = True
        for line in open("data/d.csv").readlines():
            if done:
                done = False
                continue
            rows.append(line)
    """)).body)
    out = cst.Module(header_flags(body, {})).code
    assert "line = next(f)\n    header = line\n    for line in f:\n        rows.append(line)" in out
    assert "for line in open(\"data/d.csv\").readlines()[1:]:\n    rows.append(line)" in out
