"""``lester tune``: the command line of tournaments (registered on ``lester.cli.main``)."""

from __future__ import annotations

import click

from lester.cli_params import (
    current_output,
    exit_with_error,
    name_value_pairs,
    output_options,
    store_option,
)

SHORT_HELP = "Run a model-selection tournament over a pipeline's contenders and encoder settings."


@click.command("tune", short_help=SHORT_HELP)
@click.argument("pipeline", required=False, type=click.Path(dir_okay=False))
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="Tournament settings (default: ./tune.toml): contenders, [features] grids, folds, metric.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="tune.folds=3, tune.metric=accuracy, ... or a pipeline setting (split.seed=1); repeatable.")
@click.option("--source", "sources", multiple=True, metavar="NAME=PATH", callback=name_value_pairs,
              help="Path for a dataprep() source.")
@click.option("--backend", "backend_name", type=click.Choice(["loky", "ray", "dask"]), default="loky",
              show_default=True, help="Where tasks run: local processes, or a Dask cluster (Ray is not supported).")
@click.option("--address", default=None, help="A running Dask scheduler (tcp://host:8786); "
                                               "without it --backend dask starts a local cluster.")
@click.option("--jobs", "n_jobs", type=int, default=-1, show_default=True, help="Parallel tasks (-1: one per core).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failing candidate.")
@click.option("--refresh", "refresh_id", default=None, metavar="TOURNAMENT",
              help="Re-score a tournament after forget/redact: only the affected (candidate, fold) results.")
@click.option("--stale", "list_stale", is_flag=True, help="List the tournaments a forget or redact has touched.")
@click.option("--no-final", is_flag=True, help="Do not store the winner as a run.")
@click.option("--no-plots", is_flag=True, help="Write no PNGs.")
@store_option
@output_options
def tune_command(pipeline, config, overrides, sources, backend_name, address, n_jobs, fail_fast, refresh_id,
                 list_stale, no_final, no_plots, store) -> None:
    """Run a model-selection tournament: cross-validate every contender (estimator import
    paths with grids or distributions) and the pipeline's encoder settings on the training
    side of its split, rank them, score the winner on the test split and store it as a run.
    Every (candidate, fold) result is kept in the catalog: a repeated tournament computes
    nothing, a new contender only itself.

    \b
    lester tune pipeline.py --config tune.toml
    lester tune pipeline.py --config tune.toml --backend dask --address tcp://10.0.0.5:8786
    lester tune --stale                         tournaments a forget or redact touched
    lester tune --refresh T20261202-0415        re-score them; says whether the winner changed
    """
    import os

    from lester.errors import LesterError
    from lester.secrets import mask

    output = current_output()
    console = output.console()

    def progress(stage: str, message: str) -> None:
        if not output.quiet:
            console.print(f"{stage:<9} {mask(message)}", highlight=False, markup=False)

    try:
        if list_stale:
            from lester.tune.refresh import stale

            _print_stale(stale(store), output, console)
            return
        options = {"backend_name": backend_name, "address": address, "n_jobs": n_jobs, "fail_fast": fail_fast,
                   "plots": not no_plots, "progress": progress}
        if no_final:
            options["final"] = False
        if refresh_id is not None:
            from lester.tune.refresh import refresh

            result = refresh(refresh_id, store=store, **options)
        else:
            from lester.tune.tournament import tune

            if config is None and os.path.exists("tune.toml"):
                config = "tune.toml"
            result = tune(pipeline, config=config, overrides=overrides, sources=sources, store=store, **options)
    except LesterError as error:
        exit_with_error(error)
    if output.json:
        output.emit(result.to_dict())
    elif output.quiet:
        output.ids([result.tournament_id])
    else:
        _print_result(result, console)


def _print_result(result, console) -> None:
    from lester.tune.report import print_table

    print_table(result.ranking, console, result.metric, f"tournament {result.tournament_id}")
    say = lambda line: console.print(line, highlight=False, markup=False)
    say(f"{result.computed} result(s) computed, {result.cached} from the catalog, {result.failed} failed; "
        f"{result.encoders_fitted} fold encoder(s) fitted; {result.seconds.get('total', 0):.2f} s")
    say(f"winner: {result.winner} (validation {result.validation_score:.4f}, test {result.test_score:.4f})")
    if result.refreshed_from:
        say(f"refresh of {result.refreshed_from}: the winner "
            f"{'changed' if result.winner_changed else 'did not change'}")
    if result.final_run:
        say(f"final run: {result.final_run}  (lester show {result.final_run})")
    for name, path in result.plots.items():
        say(f"plot ({name}): {path}")


def _print_stale(found, output, console) -> None:
    if output.json:
        output.emit(found)
        return
    if output.quiet:
        output.ids([t["tournament_id"] for t in found])
        return
    if not found:
        console.print("no tournament was touched by a forget or redact since it ran", highlight=False, markup=False)
    for t in found:
        console.print(f"{t['tournament_id']}  reads {', '.join(t['sources'])}  winner {t['winner']}  "
                      f"(lester tune --refresh {t['tournament_id']})", highlight=False, markup=False)
