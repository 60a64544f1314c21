"""``lester rewrite``: the command line of the rewriter (registered on ``lester.cli.main``).

Exit codes: 0 the module was validated, 1 it ran but its outputs differ from the script's
(the module is written with a NOT VALID header, the report says what differed), 2 an error
(nothing validated, nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lester.cli_params import current_output, name_value_pairs, output_options, show_values_option
from lester.secrets import mask

EXIT_VALID, EXIT_INVALID, EXIT_ERROR, EXIT_REPRODUCED = 0, 1, 2, 3


@click.command("rewrite")
@click.argument("script", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Where to write the pipeline module (default: pipeline.py next to the script).")
@click.option("--engine", type=click.Choice(["auto", "rules", "llm"]), default="auto", show_default=True,
              help="auto: the offline rules engine, then an LLM (when configured) for what rules cannot do.")
@click.option("--model", default=None, help="LLM model (or $LESTER_MODEL, or model in [llm] of lester.toml).")
@click.option("--base-url", default=None, help="OpenAI-compatible endpoint (or $OPENAI_BASE_URL).")
@click.option("--api-key-env", default=None, metavar="VAR",
              help="Environment variable holding the API key (default OPENAI_API_KEY).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="File with an [llm] table (default: ./lester.toml when it exists).")
@click.option("--sample-rows", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Random rows sampled from each input (after its first 20) for validation.")
@click.option("--data", "data", multiple=True, metavar="NAME=PATH", callback=name_value_pairs,
              help="Use this file for an input instead of sampling it (repeatable).")
@click.option("--max-repairs", default=3, show_default=True, type=click.IntRange(min=0),
              help="How often a failed LLM candidate goes back with the evidence.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds each sandboxed run (script or candidate) may take, and each LLM call, its "
                   "retries included (timeout in [llm] when that is shorter).")
@click.option("--no-cache", is_flag=True,
              help="Ask the LLM even when it answered the same prompt before, and keep no answer.")
@click.option("--force", is_flag=True, help="Overwrite an existing output or report file.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="Write the JSON report here.")
@show_values_option
@output_options
def rewrite_command(script, output, engine, model, base_url, api_key_env, config_file, sample_rows, data,
                    max_repairs, timeout, no_cache, force, report_path, show_values) -> None:
    """Rewrite a messy script (.py or .ipynb) into a validated lester pipeline module.

    \b
    lester rewrite messy.py                          rules engine, LLM for what rules cannot do
    lester rewrite messy.py --engine llm --model gpt-4o-mini -o pipeline.py
    lester rewrite messy.py --data customers=full/customers.csv --report report.json
    """
    from contextlib import nullcontext
    from dataclasses import replace

    from lester.errors import LesterError
    from lester.frame import python_functions
    from lester.rewrite.llm import LLMConfig
    from lester.rewrite.rewriter import rewrite

    out = current_output()
    console = out.console()  # under --json or -q the progress goes to stderr, or nowhere
    errors = Console(stderr=True, highlight=False)
    secrets: list[str] = []

    def fail(message: str) -> None:
        message = mask(message, secrets)
        errors.print(f"[red]error:[/] {escape(message)}", markup=True)
        document = {"script": script, "status": "error", "valid": False, "message": message}
        if report_path and (force or not Path(report_path).exists()):
            Path(report_path).write_text(mask(json.dumps(document, indent=2)) + "\n")
        if out.json:
            out.emit(document)
        sys.exit(EXIT_ERROR)

    target = Path(output) if output else Path(script).parent / "pipeline.py"
    for path, flag in ((target, "-o"), (Path(report_path) if report_path else None, "--report")):
        if path is not None and path.exists() and not force:
            errors.print(f"[red]error:[/] {escape(str(path))} exists ({flag}); pass --force to overwrite it",
                         markup=True)
            sys.exit(EXIT_ERROR)
    try:
        config = LLMConfig.resolve(config_file=config_file, model=model, base_url=base_url,
                                   api_key_env=api_key_env)
        if no_cache:
            config = replace(config, cache_dir=None)
        secrets = [k for k in [config.api_key()] if k]
        # the flag reaches the sandboxed runs through their environment
        values = python_functions.show_values() if show_values else nullcontext()
        with values, console.status("analysing") as status:
            def progress(stage: str, message: str) -> None:
                text = escape(mask(message, secrets))
                console.print(f"[bold]{stage:<9}[/] {text}", markup=True)
                status.update(f"{stage}: {text[:60]}")

            result = rewrite(script, engine=engine, llm=config, sample_rows=sample_rows,
                             data=data, max_repairs=max_repairs, timeout=timeout,
                             progress=progress)
    except LesterError as error:
        fail(str(error))
        return
    except KeyboardInterrupt:  # the sandboxed runs are already stopped (sandbox.stop_all)
        console.print("[red]interrupted[/]: the sandboxed runs were stopped; nothing was written", markup=True)
        sys.exit(130)
    if result.code is not None and result.status != "error":
        result.write(target, force=force)
    if report_path:
        result.write_report(report_path, force=force)
    if out.json:
        out.emit(result.report.to_dict())
    elif out.quiet:
        click.echo(f"{result.status} {result.report.output or ''}".strip())
    else:
        _print_summary(console, result)
    sys.exit({"valid": EXIT_VALID, "invalid": EXIT_INVALID, "reproduced": EXIT_REPRODUCED}.get(result.status, EXIT_ERROR))


def _print_summary(console: Console, result) -> None:
    report = result.report
    if report.validation is not None:
        console.print(report.validation_table())
    stages = Table("stage", "lines", "status", "engine", "note", title="stages")
    for stage in report.stages:
        stages.add_row(stage.stage, stage.lines, stage.status, stage.engine, escape(mask(stage.note)))
    console.print(stages)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(mask(warning))}", markup=True)
    if report.pandas_steps:
        where = ", ".join(f"{s['lines'][0]}-{s['lines'][1]}" for s in report.pandas_steps)
        console.print(f"pandas steps: lines {where} run the script's pandas code in Frame.pipe "
                      "(row provenance by index; the report's JSON says why each)")
    if report.sandbox:
        enforced = [name for name, state in report.sandbox.items() if state.startswith("on")]
        missing = [f"{name} ({state})" for name, state in report.sandbox.items() if not state.startswith("on")]
        console.print(f"sandbox: enforced {', '.join(enforced) or 'nothing'}"
                      + (f"; [yellow]not enforced:[/] {escape('; '.join(missing))}" if missing else ""), markup=True)
    colour = {"valid": "green", "invalid": "yellow", "reproduced": "yellow"}.get(result.status, "red")
    where = f" -> {report.output}" if report.output else ""
    console.print(f"[{colour}]{result.status}[/]{escape(where)}: {escape(mask(report.message))}", markup=True)
    console.print(f"{len(report.attempts)} attempts, {report.seconds:.1f} s, {report.usage.describe()}")
