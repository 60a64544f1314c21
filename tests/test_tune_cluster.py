"""The Dask backend, on a local cluster: the same tournament, the same table."""

from __future__ import annotations

import pandas as pd
import pytest

import lester as lt
from lester.tune.backends import BackendError, backend
from tests.test_tune import LR, TREE, run_tune, settings, write_case

pytest.importorskip("distributed")


@pytest.fixture
def case(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write_case(tmp_path)


def test_dask_local_cluster_gives_the_table_of_local_processes(case, tmp_path):
    config = settings(LR, TREE, folds=3, features={})
    local = run_tune(case, config)  # in this process
    # a second store: nothing comes from the first one's catalog
    clustered = lt.tune(case / "pipeline.py", config=config, store=tmp_path / "other-store",
                        backend_name="dask", n_jobs=2, plots=False, final=False)
    assert clustered.computed == local.computed == 12 and clustered.cached == 0
    columns = ["rank", "candidate", "mean", "stderr", "folds", "failed_folds"]
    pd.testing.assert_frame_equal(local.ranking[columns], clustered.ranking[columns])


def test_unknown_backends_and_misplaced_addresses_are_clear_errors():
    with pytest.raises(BackendError, match="cluster engine is Dask"), backend("ray"):
        pass
    address = "tcp://127.0.0.1:1"
    with pytest.raises(BackendError, match="--address names a Dask scheduler"), backend("loky", address=address):
        pass


def test_an_address_without_a_scheduler_is_a_clear_error():
    with pytest.raises(BackendError, match="--address tcp://127.0.0.1:1: no Dask scheduler answered"), \
            backend("dask", address="tcp://127.0.0.1:1"):
        pass
