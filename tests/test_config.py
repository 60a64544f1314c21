"""Run configuration: includes, overrides, resolution, storage and errors."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

from lester.errors import LesterError
from lester.pipeline.config import (
    ConfigError,
    RunConfig,
    SplitConfig,
    dumps_toml,
    load_config,
    parse_override,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """Run in tmp_path so cwd-relative paths (base, overrides) are predictable."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- defaults


def test_no_file_gives_defaults():
    cfg = load_config()
    assert cfg.pipeline is None
    assert cfg.sources == {}
    assert cfg.split == SplitConfig(kind="random", test_size=0.2, seed=0)
    assert cfg.model == {} and cfg.features == {}
    assert cfg.raw == {
        "sources": {},
        "split": {"kind": "random", "test_size": 0.2, "seed": 0},
        "model": {},
        "features": {},
    }
    assert cfg.files == ()


def test_single_file(tmp_path):
    path = write(
        tmp_path / "lester.toml",
        """
        pipeline = "pipeline.py"
        [sources]
        customers = "data/customers.csv"
        [split]
        kind = "group"
        group = "customer_id"
        test_size = 0.25
        seed = 7
        [model]
        C = 0.5
        [features]
        min_df = 2
        """.replace("        ", ""),
    )
    cfg = load_config(path)
    assert cfg.pipeline == tmp_path / "pipeline.py"
    assert cfg.sources == {"customers": tmp_path / "data" / "customers.csv"}
    assert cfg.split == SplitConfig("group", 0.25, 7, group="customer_id")
    assert cfg.model == {"C": 0.5}
    assert cfg.features == {"min_df": 2}
    assert cfg.files == (path,)


def test_relative_config_path_is_taken_from_cwd(in_tmp):
    write(in_tmp / "conf" / "lester.toml", 'pipeline = "p.py"\n')
    cfg = load_config("conf/lester.toml")
    assert cfg.pipeline == in_tmp / "conf" / "p.py"


# --------------------------------------------------------------------------- includes


def test_base_and_experiment_deep_merge_and_paths_from_each_folder(tmp_path):
    write(
        tmp_path / "shared" / "base.toml",
        """
pipeline = "pipeline.py"
[sources]
customers = "data/customers.csv"
mails = "data/mails.csv"
[split]
kind = "group"
group = "customer_id"
seed = 1
[model]
C = 1.0
max_iter = 100
layers = [64, 32]
[model.extra]
a = 1
b = 2
""",
    )
    exp = write(
        tmp_path / "experiments" / "exp1.toml",
        """
include = "../shared/base.toml"
[sources]
mails = "mails_2024.csv"
[split]
seed = 7
[model]
C = 0.5
layers = [8]
[model.extra]
b = 3
""",
    )
    cfg = load_config(exp)
    # Paths resolve against the folder of the file that set them.
    assert cfg.pipeline == tmp_path / "shared" / "pipeline.py"
    assert cfg.sources == {
        "customers": tmp_path / "shared" / "data" / "customers.csv",
        "mails": tmp_path / "experiments" / "mails_2024.csv",
    }
    # Tables merge key by key; scalars and lists replace.
    assert cfg.split == SplitConfig("group", 0.2, 7, group="customer_id")
    assert cfg.model == {"C": 0.5, "max_iter": 100, "layers": [8], "extra": {"a": 1, "b": 3}}
    assert cfg.files == (tmp_path / "shared" / "base.toml", exp)
    assert "include" not in cfg.raw


def test_includes_in_order_and_nested(tmp_path):
    write(
        tmp_path / "a" / "root.toml", '[model]\nC = 1\nsolver = "lbfgs"\n[sources]\nx = "x.csv"\n'
    )
    write(tmp_path / "a" / "mid.toml", 'include = "root.toml"\n[model]\nC = 2\n')
    write(tmp_path / "b" / "other.toml", "[model]\nC = 3\nmax_iter = 5\n")
    top = write(
        tmp_path / "top.toml",
        'include = ["a/mid.toml", "b/other.toml"]\n[features]\nngram = [1, 2]\n',
    )
    cfg = load_config(top)
    # Later includes win over earlier ones; the including file wins over both.
    assert cfg.model == {"C": 3, "solver": "lbfgs", "max_iter": 5}
    assert cfg.sources == {"x": tmp_path / "a" / "x.csv"}
    assert cfg.features == {"ngram": [1, 2]}
    assert [p.name for p in cfg.files] == ["root.toml", "mid.toml", "other.toml", "top.toml"]


def test_including_file_wins_over_include(tmp_path):
    write(tmp_path / "base.toml", "[split]\ntest_size = 0.3\n")
    exp = write(tmp_path / "exp.toml", 'include = "base.toml"\n[split]\ntest_size = 0.1\n')
    assert load_config(exp).split.test_size == 0.1


def test_diamond_include_is_not_a_cycle(tmp_path):
    write(tmp_path / "d.toml", "[model]\nC = 1\n")
    write(tmp_path / "b.toml", 'include = "d.toml"\n')
    write(tmp_path / "c.toml", 'include = "d.toml"\n')
    top = write(tmp_path / "a.toml", 'include = ["b.toml", "c.toml"]\n')
    assert load_config(top).model == {"C": 1}


def test_include_cycle_names_the_chain(tmp_path):
    write(tmp_path / "a.toml", 'include = "sub/b.toml"\n')
    write(tmp_path / "sub" / "b.toml", 'include = "c.toml"\n')
    write(tmp_path / "sub" / "c.toml", 'include = "../a.toml"\n')
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "a.toml")
    a, b, c = tmp_path / "a.toml", tmp_path / "sub" / "b.toml", tmp_path / "sub" / "c.toml"
    assert str(err.value) == f"include cycle: {a} -> {b} -> {c} -> {a}"
    assert isinstance(err.value, LesterError)


def test_self_include_is_a_cycle(tmp_path):
    path = write(tmp_path / "a.toml", 'include = "a.toml"\n')
    with pytest.raises(ConfigError, match="include cycle"):
        load_config(path)


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("text", "keys", "value"),
    [
        ("model.C=0.5", ["model", "C"], 0.5),
        ("split.seed=7", ["split", "seed"], 7),
        ("model.fit_intercept=true", ["model", "fit_intercept"], True),
        ("model.fit_intercept=false", ["model", "fit_intercept"], False),
        ('model.solver="saga"', ["model", "solver"], "saga"),
        ("model.solver='saga'", ["model", "solver"], "saga"),
        ("split.kind=group", ["split", "kind"], "group"),
        ("model.layers=[1,2]", ["model", "layers"], [1, 2]),
        ('model.opts={a = 1, b = "x"}', ["model", "opts"], {"a": 1, "b": "x"}),
        ("sources.customers=data/c.csv", ["sources", "customers"], "data/c.csv"),
        (" model.C = 1e-3 ", ["model", "C"], 0.001),
        ("model.a.b.c=1", ["model", "a", "b", "c"], 1),
        ("model.tag=a=b", ["model", "tag"], "a=b"),
    ],
)
def test_parse_override(text, keys, value):
    assert parse_override(text) == (keys, value)


def test_overrides_of_each_type_and_new_tables(in_tmp):
    write(in_tmp / "conf" / "lester.toml", '[model]\nC = 1.0\nsolver = "lbfgs"\n')
    cfg = load_config(
        in_tmp / "conf" / "lester.toml",
        [
            "model.C=0.5",
            "model.max_iter=200",
            "model.fit_intercept=false",
            'model.solver="saga"',
            "model.penalty=l1",
            "model.layers=[64, 32]",
            "model.kernel.params.gamma=0.1",  # nested tables created as needed
            "features.text.max_features=100",  # a section absent from the file
            "split.kind=time",
            "split.time_column=mail_date",
            "sources.customers=data/customers.csv",
            "pipeline=pipe.py",
        ],
    )
    assert cfg.model == {
        "C": 0.5,
        "solver": "saga",
        "max_iter": 200,
        "fit_intercept": False,
        "penalty": "l1",
        "layers": [64, 32],
        "kernel": {"params": {"gamma": 0.1}},
    }
    assert isinstance(cfg.model["max_iter"], int)
    assert cfg.features == {"text": {"max_features": 100}}
    assert cfg.split == SplitConfig("time", 0.2, 0, time_column="mail_date")
    # Override paths resolve against the working directory, not the config's folder.
    assert cfg.sources == {"customers": in_tmp / "data" / "customers.csv"}
    assert cfg.pipeline == in_tmp / "pipe.py"


def test_override_source_path_that_looks_like_a_number_stays_text(in_tmp):
    cfg = load_config(None, ["sources.y=2024", "sources.z=1.5"])
    assert cfg.sources == {"y": in_tmp / "2024", "z": in_tmp / "1.5"}


def test_overrides_beat_files_and_later_overrides_beat_earlier(tmp_path):
    write(tmp_path / "base.toml", "[model]\nC = 1.0\n[split]\nseed = 3\n")
    exp = write(tmp_path / "exp.toml", 'include = "base.toml"\n[model]\nC = 2.0\n')
    cfg = load_config(exp, ["model.C=0.5", "split.seed=9", "model.C=0.25"])
    assert cfg.model == {"C": 0.25}
    assert cfg.split.seed == 9


def test_override_replaces_a_scalar_with_a_table(tmp_path):
    path = write(tmp_path / "c.toml", "[model]\nC = 1.0\n")
    assert load_config(path, ["model.C.x=2"]).model == {"C": {"x": 2}}


def test_base_mapping_sits_between_files_and_overrides(in_tmp):
    write(in_tmp / "conf" / "lester.toml", '[sources]\ncustomers = "c.csv"\nmails = "m.csv"\n')
    cfg = load_config(
        in_tmp / "conf" / "lester.toml",
        ["sources.mails=final.csv"],
        base={
            "sources": {"customers": Path("cli/c.csv"), "mails": "cli/m.csv"},
            "pipeline": "p.py",
        },
    )
    assert cfg.sources == {
        "customers": in_tmp / "cli" / "c.csv",
        "mails": in_tmp / "final.csv",
    }
    assert cfg.pipeline == in_tmp / "p.py"


# --------------------------------------------------------------------------- storing


def test_to_toml_round_trip(tmp_path):
    path = write(
        tmp_path / "lester.toml",
        """
pipeline = "pipe line.py"
[sources]
"odd name" = 'C:\\data\\x "q".csv'
[split]
kind = "group"
group = "customer_id"
test_size = 0.25
[model]
C = 1e-05
big = 12345678901234
flag = true
nan = nan
neg_inf = -inf
when = 2024-01-31
text = "line1\\nline2\\ttab \\u0001 ü"
mixed = [1, "a", [2.5, false], {k = "v"}]
empty = []
[model.nested.deeper]
x = 1
[features]
""",
    )
    cfg = load_config(path)
    text = cfg.to_toml()
    parsed = tomllib.loads(text)
    assert math.isnan(parsed["model"].pop("nan"))
    expected = cfg.to_dict()
    assert math.isnan(expected["model"].pop("nan"))
    assert parsed == expected
    assert "features" in parsed and parsed["features"] == {}

    # The stored file loads back to the same configuration.
    stored = write(tmp_path / "elsewhere" / "resolved.toml", text)
    again = load_config(stored)
    assert again.fingerprint() == cfg.fingerprint()
    assert again.sources == cfg.sources and again.pipeline == cfg.pipeline


def test_dumps_toml_plain_values():
    data = {"a": 1, "b": "x", "t": {"u": {"v": [1.5]}, "w": True}}
    assert tomllib.loads(dumps_toml(data)) == data
    assert dumps_toml({}) == ""
    with pytest.raises(ConfigError, match="no null"):
        dumps_toml({"a": None})


def test_to_dict_is_a_copy():
    cfg = load_config(None, ["model.layers=[1]"])
    d = cfg.to_dict()
    d["model"]["layers"].append(2)
    assert cfg.raw["model"]["layers"] == [1]


def test_from_dict_reads_a_stored_configuration():
    cfg = load_config(None, ["split.kind=group", "split.group=g", "model.C=0.5"])
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_stable_and_sensitive(tmp_path):
    a = write(tmp_path / "a.toml", "[model]\nC = 0.5\nmax_iter = 10\n[split]\nseed = 0\n")
    # Same settings, other key order and defaults spelled out: same fingerprint.
    b = write(
        tmp_path / "b.toml",
        '[split]\nkind = "random"\ntest_size = 0.2\n[model]\nmax_iter = 10\nC = 0.5\n',
    )
    fa = load_config(a).fingerprint()
    assert len(fa) == 64 and int(fa, 16) >= 0
    assert fa == load_config(a).fingerprint()
    assert fa == load_config(b).fingerprint()
    assert fa == load_config(None, ["model.C=0.5", "model.max_iter=10"]).fingerprint()

    changed = {
        load_config(a, ["model.C=0.6"]).fingerprint(),
        load_config(a, ["model.C=1"]).fingerprint(),  # int vs float reaches make_model
        load_config(a, ["split.seed=1"]).fingerprint(),
        load_config(a, ["features.x=1"]).fingerprint(),
        load_config(a, ["sources.c=c.csv"]).fingerprint(),
    }
    assert fa not in changed and len(changed) == 5


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(err.value)
    assert err.value.path == tmp_path / "nope.toml"


def test_missing_include_names_the_including_file(tmp_path):
    exp = write(tmp_path / "exp" / "exp.toml", 'include = "../base.toml"\n')
    with pytest.raises(ConfigError) as err:
        load_config(exp)
    msg = str(err.value)
    assert str(tmp_path / "base.toml") in msg
    assert f"included by {exp}" in msg


def test_toml_syntax_error_names_file_line_and_column(tmp_path):
    path = write(tmp_path / "bad.toml", "[model]\nC = 0.5\nsolver = saga\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    e = err.value
    assert (e.path, e.line, e.column) == (path, 3, 10)
    assert str(e).startswith(f"{path}, line 3, column 10: invalid TOML:")
    assert "(at line" not in str(e)


def test_toml_syntax_error_in_included_file(tmp_path):
    write(tmp_path / "base.toml", "[model\n")
    exp = write(tmp_path / "exp.toml", 'include = "base.toml"\n')
    with pytest.raises(ConfigError) as err:
        load_config(exp)
    assert err.value.path == tmp_path / "base.toml" and err.value.line == 1
    assert f"included by {exp}" in str(err.value)


def test_toml_error_at_end_of_document(tmp_path):
    path = write(tmp_path / "bad.toml", "[model]\nC = ")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.line == 2
    assert "end of document" not in str(err.value)


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path / "lester.toml", "[modle]\nC = 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: unknown key 'modle' (did you mean 'model'?)")
    assert "include, pipeline, sources, split, model, features" in msg


def test_unknown_split_key(tmp_path):
    path = write(tmp_path / "lester.toml", "[split]\ntest_szie = 0.3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "split.test_szie" in msg and "did you mean 'test_size'" in msg
    assert "kind, test_size, seed, group, time_column" in msg


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('[split]\ntest_size = "big"', "split.test_size = 'big' must be a number"),
        ("[split]\ntest_size = 1.5", "split.test_size = 1.5 must be a number strictly between"),
        ("[split]\ntest_size = 0", "split.test_size = 0 must be"),
        ("[split]\ntest_size = true", "split.test_size = True must be"),
        ("[split]\nseed = 1.5", "split.seed = 1.5 must be an integer"),
        ("[split]\nseed = -1", "split.seed = -1 must be an integer"),
        ('[split]\nkind = "stratified"', "split.kind = 'stratified' must be one of"),
        ("[split]\ngroup = 3", "split.group = 3 must be a column name"),
        ("split = 3", "split = 3 must be a table"),
        ("model = 3", "model = 3 must be a table"),
        ("pipeline = 3", "pipeline = 3 must be the path"),
        ("[sources]\ncustomers = 3", "sources.customers = 3 must be a file path"),
        ("include = 3", "include = 3 must be a file name"),
    ],
)
def test_wrong_types_name_file_and_key(tmp_path, toml, fragment):
    path = write(tmp_path / "lester.toml", toml + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: ")
    assert fragment in str(err.value)


def test_wrong_type_in_override_names_the_override():
    with pytest.raises(ConfigError) as err:
        load_config(None, ["split.test_size=big"])
    assert str(err.value).startswith("override 'split.test_size=big': split.test_size = 'big'")


def test_unknown_key_in_override():
    with pytest.raises(ConfigError, match=r"override 'modle.C=1': unknown key 'modle'"):
        load_config(None, ["modle.C=1"])
    with pytest.raises(ConfigError, match=r"override 'split.sed=1': unknown key split.sed"):
        load_config(None, ["split.sed=1"])
    with pytest.raises(ConfigError, match="'include' can only be used in a config file"):
        load_config(None, ["include=x.toml"])


def test_group_split_without_group_names_where_kind_was_set(tmp_path):
    path = write(tmp_path / "lester.toml", '[split]\nkind = "group"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert f"split.kind = 'group' (set in {path}) needs split.group" in msg


def test_time_split_without_time_column():
    with pytest.raises(ConfigError) as err:
        load_config(None, ["split.kind=time"])
    assert "split.kind = 'time' (set in override 'split.kind=time') needs split.time_column" in str(
        err.value
    )


def test_group_column_without_kind_is_an_error(tmp_path):
    path = write(tmp_path / "lester.toml", '[split]\ngroup = "customer_id"\n')
    with pytest.raises(ConfigError, match=r'split.group is set .* add kind = "group"'):
        load_config(path)


def test_group_left_over_from_base_is_ignored_by_other_kinds(tmp_path):
    write(tmp_path / "base.toml", '[split]\nkind = "group"\ngroup = "customer_id"\n')
    exp = write(tmp_path / "exp.toml", 'include = "base.toml"\n[split]\nkind = "random"\n')
    assert load_config(exp).split.kind == "random"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("model.C", "no '='"),
        ("=0.5", "is not a dotted key path"),
        ("model..C=1", "is not a dotted key path"),
        ("model C=1", "is not a dotted key path"),
        ("model.C=", "no value after '='"),
        ('model.s="unterminated', "is not a valid TOML value"),
        ("model.l=[1,", "is not a valid TOML value"),
    ],
)
def test_malformed_override(text, fragment):
    with pytest.raises(ConfigError) as err:
        parse_override(text)
    msg = str(err.value)
    assert msg.startswith(f"malformed override {text!r}")
    assert fragment in msg
    assert "section.key=value" in msg


def test_overrides_must_be_a_list_not_a_string():
    with pytest.raises(ConfigError, match="not a single string"):
        load_config(None, "model.C=1")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "lester.toml"
    path.write_bytes(b"[model]\nname = '\xff'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.line == 2 and str(path) in str(err.value)


def test_relative_include_uses_the_including_files_folder_not_cwd(tmp_path, monkeypatch):
    write(tmp_path / "conf" / "base.toml", "[model]\nC = 9\n")
    exp = write(tmp_path / "conf" / "exp.toml", 'include = "base.toml"\n')
    monkeypatch.chdir(tmp_path)  # base.toml does not exist here
    assert not os.path.exists("base.toml")
    assert load_config(exp).model == {"C": 9}
