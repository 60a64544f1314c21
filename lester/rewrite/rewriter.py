"""Orchestration: analyse -> propose -> static checks -> validate -> repair, and the result.

Example (``result`` shows the diff and the validation table in Jupyter):
    >>> result = lt.rewrite("messy.py")                      # doctest: +SKIP
    >>> result                       # doctest: +SKIP
    >>> result.write("pipeline.py")                          # doctest: +SKIP
    >>> result.run()                                         # doctest: +SKIP
"""

from __future__ import annotations

import ast
import builtins
import difflib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lester.errors import LesterError
from lester.rewrite.analysis import (
    PIPELINE_STAGES,
    InputFile,
    ScriptAnalysis,
    analyze_path,
    analyze_source,
    source_name,
)
from lester.rewrite.comparison import ValidationReport, compare_outputs
from lester.rewrite.engines import (
    Engine,
    EngineUnavailable,
    Feedback,
    LLMEngine,
    Proposal,
    RewriteTask,
    RulesEngine,
    StageUnsupported,
)
from lester.rewrite.llm import HOW_TO_CONFIGURE, LLMConfig, LLMError, LLMNotConfigured, Usage
from lester.rewrite.report import Attempt, RewriteReport, StageStatus
from lester.rewrite.sampling import SamplePlan, sample_inputs
from lester.rewrite.sandbox import Outputs, run_candidate, run_original, stop_all
from lester.rewrite.static_checks import check_module, errors
from lester.secrets import contains_secret, mask

Progress = Callable[[str, str], None]
_CHECK_OF_STAGE = {"dataprep": "prepared", "encode_features": "X", "extract_label": "y", "make_model": "model"}
SECRET_IN_MODULE = ("the module contains a secret (an API key, token or a URL's password; replaced by ***): "
                    "a pipeline must not hold credentials, leave it out")


class RewriteError(LesterError):
    """A rewrite result cannot be written or run (nothing to write, file exists...)."""


@dataclass
class RewriteResult:
    """The outcome of :func:`rewrite`: the module, its validation, and how it was obtained.

    ``status`` is ``valid`` (validation ran and matched, and every step keeps row provenance),
    ``reproduced`` (validation matched, but some step runs the script's own code as opaque
    Python, without row provenance: ``forget`` cannot work through it), ``invalid`` (a candidate ran but
    its outputs differ; ``code`` is the last candidate) or ``error`` (no candidate could be
    validated; ``report.message`` says why).
    """

    status: str
    code: str | None
    source: str
    script: str
    script_dir: Path
    report: RewriteReport

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def sources(self) -> dict[str, Any]:
        """``dataprep``'s parameters and their defaults in the module."""
        if not self.code:
            return {}
        for node in ast.parse(self.code).body:
            if isinstance(node, ast.FunctionDef) and node.name == "dataprep":
                args = node.args.args
                defaults = [None] * (len(args) - len(node.args.defaults)) + list(node.args.defaults)
                return {a.arg: ast.literal_eval(d) if d is not None else None for a, d in zip(args, defaults)}
        return {}

    def diff(self) -> str:
        """A unified diff from the script to the pipeline module."""
        if self.code is None:
            return ""
        return "".join(difflib.unified_diff(
            self.source.splitlines(keepends=True), self.code.splitlines(keepends=True),
            fromfile=self.script, tofile="pipeline.py"))

    def write(self, path: str | os.PathLike | None = None, *, force: bool = False) -> Path:
        """Write the module (default: ``pipeline.py`` next to the script); never overwrites
        an existing file unless ``force``."""
        if self.code is None:
            raise RewriteError(f"{self.script}: nothing to write: {self.report.message}")
        target = Path(path) if path is not None else self.script_dir / "pipeline.py"
        _write_new(target, self.code, force)
        self.report.output = str(target)
        return target

    def write_report(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write the JSON report (never over an existing file unless ``force``)."""
        import json

        target = Path(path)
        _write_new(target, json.dumps(self.report.to_dict(), indent=2, default=str) + "\n", force)
        return target

    def run(self, **options: Any):
        """Run the module with ``lester.run`` on the script's own data (its folder's paths).

        ``lester run`` needs all four pipeline functions; a module from a script without a
        model or label stage is refused with a message naming the missing functions.
        """
        from lester.pipeline.runner import run

        if self.code is None:
            raise RewriteError(f"{self.script}: nothing to run: {self.report.message}")
        sources = {name: str(self.script_dir / path) for name, path in self.sources.items()
                   if isinstance(path, str)}
        sources.update(options.pop("sources", {}) or {})
        options.setdefault("store", self.script_dir / ".lester")
        with tempfile.TemporaryDirectory(prefix="lester-rewrite-") as folder:
            module = Path(folder) / "pipeline.py"
            module.write_text(self.code)
            return run(module, sources=sources, **options)

    def __repr__(self) -> str:
        return f"<RewriteResult {self.script}: {self.status} - {self.report.message}>"

    def __str__(self) -> str:
        return self.report.text()

    def _repr_html_(self) -> str:
        return self.report.html(self.diff())


def rewrite(
    path_or_source: str | os.PathLike,
    *,
    engine: str = "auto",
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    llm: LLMConfig | None = None,
    config_file: str | os.PathLike | None = None,
    sample_rows: int = 1000,
    data: Mapping[str, str] | None = None,
    max_repairs: int = 3,
    timeout: float = 60,
    engines: Sequence[Engine] | None = None,
    progress: Progress | None = None,
) -> RewriteResult:
    """Rewrite a messy script (``.py``, ``.ipynb``, or source text) into a validated pipeline module.

    ``engine`` is ``auto`` (the rules engine, then an LLM for what rules cannot do when one is
    configured), ``rules`` or ``llm``. The LLM comes from ``llm`` or ``model``/``base_url``/
    ``api_key_env``, the environment, and ``[llm]`` in ``lester.toml`` (see
    :class:`lester.rewrite.llm.LLMConfig`). Validation runs the script and each candidate on
    samples of the inputs (``sample_rows``; ``data`` maps an input's name to a file to use
    instead), each in a subprocess limited to ``timeout`` seconds; each LLM call (its retries
    included) is limited to ``timeout`` too, or to the LLM configuration's when shorter.
    Failures go back to the engine up to ``max_repairs`` times.

    Example:
        >>> result = rewrite("messy.py", engine="llm", model="gpt-4o-mini")   # doctest: +SKIP
        >>> result.status, result.report.usage.describe()                     # doctest: +SKIP
        ('valid', '2 LLM calls, 3121 prompt + 640 completion tokens, 9.8 s')
        >>> result.write("pipeline.py")                                        # doctest: +SKIP
    """
    started = time.perf_counter()
    say = progress or (lambda stage, message: None)
    script_path, source_text = _script(path_or_source)
    if script_path is not None:
        analysis = analyze_path(script_path)
        script_dir = script_path.parent
    else:
        script_dir = Path.cwd()
        analysis = analyze_source(source_text, filename="<source>", folder=script_dir)
    say("analyse", f"{len(analysis.inputs)} inputs, stages "
        + ", ".join(f"{n} ({s.describe()})" for n, s in analysis.stages.items()
                    if s.statements and n in PIPELINE_STAGES))
    plan = sample_inputs(analysis, script_dir, rows=sample_rows, data=data)
    say("sample", "; ".join(plan.describe()) or "no inputs")

    config = llm or LLMConfig.resolve(config_file=config_file, model=model, base_url=base_url,
                                      api_key_env=api_key_env)
    # one --timeout for everything a rewrite waits on: a slow endpoint is no slower script
    config = replace(config, timeout=min(config.timeout, timeout))
    chain = list(engines) if engines is not None else _engines(engine, config)
    secrets = [k for k in [config.api_key()] if k]
    # a script that builds its paths at run time fails at the first file it was not given: each
    # restart adds the files it tried to read (new ones only, so this ends)
    for restart in range(_RESTARTS + 1):
        if restart:
            plan = sample_inputs(analysis, script_dir, rows=sample_rows, data=data)
        task = RewriteTask(analysis, analysis.pipeline_stages, _preview(plan), inputs_head=_preview(plan, width=None))
        loop = _Loop(analysis, plan, script_path, script_dir, task, timeout, say, may_restart=restart < _RESTARTS)
        try:
            loop.run(chain, max_repairs, config, engine)
            break
        except _InputsFound as found:
            # the script read files its text does not name: sample them too and start again
            analysis.inputs.extend(found.inputs)
            say("analyse", "inputs found by running the script: " + ", ".join(i.path for i in found.inputs))
    return loop.result(started, secrets, source_text if script_path is None else None)


_RESTARTS = 8  # inputs found by running, one missing file per restart at most


class _InputsFound(Exception):
    """The original script opened files that static analysis missed (paths built at run time)."""

    def __init__(self, inputs: list[InputFile]):
        super().__init__(", ".join(i.path for i in inputs))
        self.inputs = inputs


def _missed_inputs(original: Outputs, analysis: ScriptAnalysis, plan: SamplePlan, script_dir: Path) -> list[InputFile]:
    """Files the failed original tried to read that exist next to the script but are not sampled."""
    sampled = {Path(f.relative_path).as_posix() for f in plan.files}
    written = {o.path for o in analysis.outputs}
    used = {i.name for i in analysis.inputs}
    missed: list[InputFile] = []
    for path in original.read:
        if path in sampled or path in written or not (script_dir / path).is_file():
            continue
        name = source_name(path, used)
        used.add(name)
        line = (original.error or {}).get("line") or 1
        missed.append(InputFile(name, path, line))
    return missed


def _script(path_or_source: str | os.PathLike) -> tuple[Path | None, str]:
    if isinstance(path_or_source, os.PathLike) or "\n" not in path_or_source and (path_or_source.endswith((".py", ".ipynb")) or Path(path_or_source).exists()):
        path = Path(path_or_source)
    else:
        return None, path_or_source
    if not path.is_file():
        raise LesterError(f"{path}: no such script")
    # the file's text is analyze_path's to read: it decodes as Python does, and says what is wrong
    return path, ""


def _engines(engine: str, config: LLMConfig) -> list[Engine]:
    if engine == "rules":
        return [RulesEngine()]
    if engine == "llm":
        problem = config.problem()
        if problem:
            raise LLMNotConfigured(f"--engine llm: {problem}")
        return [LLMEngine(config)]
    if engine == "auto":
        return [RulesEngine()] + ([LLMEngine(config)] if config.configured else [])
    raise LesterError(f"unknown engine {engine!r}: choose auto, rules or llm")


def _preview(plan: SamplePlan, lines: int = 5, width: int | None = 200) -> dict[str, str]:
    """The first ``lines`` lines of each input, each cut at ``width`` characters (for a prompt;
    ``width=None`` keeps them whole, for the rules engine to read the header)."""
    preview: dict[str, str] = {}
    for sampled in plan.files:
        if sampled.name in preview:
            continue
        if sampled.relative_path.endswith((".parquet", ".pq")):
            import io

            import pyarrow.parquet as pq

            table = pq.read_table(io.BytesIO(sampled.content)).slice(0, lines)
            preview[sampled.name] = f"parquet, columns {table.column_names}\n{table.to_pandas().to_string()}"
            continue
        try:
            text = sampled.content.decode("utf-8")
        except UnicodeDecodeError:
            preview[sampled.name] = f"(binary file {sampled.relative_path})"
            continue
        head = [line[:width] for line in text.splitlines()[:lines]]
        preview[sampled.name] = "\n".join(head)
    return preview


class _Loop:
    """One rewrite's attempts, in order, with what the validator found."""

    def __init__(self, analysis: ScriptAnalysis, plan: SamplePlan, script_path: Path | None,
                 script_dir: Path, task: RewriteTask, timeout: float, say: Progress, may_restart: bool = False):
        self.analysis, self.plan, self.script_path, self.script_dir = analysis, plan, script_path, script_dir
        self.may_restart = may_restart  # with inputs found by running the script (once)
        self.task, self.timeout, self.say = task, timeout, say
        self.attempts: list[Attempt] = []
        self.usage = Usage()
        self.original: Outputs | None = None
        self.best: tuple[Proposal, str, ValidationReport | None] | None = None
        self.valid: tuple[Proposal, str, ValidationReport] | None = None
        self.fallback: tuple[Proposal, str, ValidationReport] | None = None  # valid, with opaque steps
        self.without_lists: tuple[Proposal, str, ValidationReport] | None = None  # valid before name_lists
        self.error: str | None = None
        self.unsupported: StageUnsupported | None = None
        self.warnings: list[str] = []
        self.llm_configured = False

    # -- the loop ------------------------------------------------------------------------------
    def run(self, chain: Sequence[Engine], max_repairs: int, config: LLMConfig, engine_choice: str) -> None:
        feedback: Feedback | None = None
        self.llm_configured = any(e.repairs for e in chain)
        for position, engine in enumerate(chain):
            llm_later = any(e.repairs for e in chain[position + 1:])
            tries = 1 + max_repairs if engine.repairs else 1
            attempt = 0
            while attempt < tries:
                attempt += 1
                started = time.perf_counter()
                self.say(engine.name, "proposing a pipeline" if feedback is None else "repairing")
                try:
                    proposal = engine.propose(self.task, feedback)
                except StageUnsupported as exc:
                    self.unsupported = exc
                    self._attempt(engine.name, "unsupported", str(exc), started)
                    self.task.hint = (f"An offline compiler could not rewrite stage {exc.stage}"
                                      f"{_lines(exc.lines)}: {exc.reason}. Pay attention to it.")
                    break
                except EngineUnavailable as exc:
                    self._attempt(engine.name, "unavailable", str(exc), started)
                    self.error = str(exc)
                    break
                except LLMError as exc:
                    self._attempt(engine.name, "error", str(exc), started)
                    if self.fallback is not None:
                        self.warnings.append(f"kept the {self.fallback[0].engine} engine's module: {exc}")
                    else:
                        self.error = str(exc)
                    return
                self.usage.merge(proposal.usage)
                feedback = self._judge(proposal, started)
                if self._read_lists_again(engine, proposal):
                    tries += 1  # the same engine again, with the column lists the script computed
                    feedback = None
                    continue
                if self.valid is None and self.without_lists is not None:
                    self.valid = self.without_lists  # the first reading was valid, if opaque: keep it
                self.without_lists = None
                if self.valid is not None and self.valid[0].opaque_steps and llm_later and self.fallback is None:
                    # valid, but parts run as opaque Python: let the LLM try to express them in the DSL
                    self.fallback, self.valid = self.valid, None
                    feedback = Feedback(_opaque_problems(self.fallback[0]), self.fallback[1], None, engine.name)
                    break
                if self.valid is not None or self.error is not None:
                    return
        if self.valid is None and self.unsupported is not None and self.best is None and not any(
            isinstance(e, LLMEngine) for e in chain
        ):
            stage = self.unsupported
            self.error = (f"stage {stage.stage}{_lines(stage.lines)} could not be rewritten by the rules "
                          f"engine: {stage.reason}. To rewrite it with an LLM, {HOW_TO_CONFIGURE}")

    def _read_lists_again(self, engine: Engine, proposal: Proposal) -> bool:
        """Whether the rules should read the script again with the lists of column names its
        run on the sample computed (``select_dtypes(...).columns.tolist()``): once, when they
        kept something opaque or failed, and the run left such lists."""
        if engine.name != "rules" or self.task.name_lists or self.original is None \
                or not self.original.name_lists:
            return False
        if self.valid is not None and not self.valid[0].opaque_steps:
            return False
        self.task.name_lists = dict(self.original.name_lists)
        self.without_lists, self.valid = self.valid, None
        return True

    def _judge(self, proposal: Proposal, started: float) -> Feedback | None:
        """Check one proposal; the feedback for the next attempt, or None when it is valid."""
        tokens = proposal.usage.prompt_tokens + proposal.usage.completion_tokens
        if proposal.code is None:
            self._attempt(proposal.engine, "no-code", proposal.error or "no code", started, tokens)
            return Feedback(f"Your answer could not be used: {proposal.error}", None, proposal.answer, proposal.engine)
        code = _with_helpers(proposal.code, self.analysis)
        if contains_secret(code):
            # an endpoint echoing its key (remembered when the client read it), or a credential
            # copied from the script: never valid, and neither the sandbox nor a file sees it
            code = mask(code)
            self._attempt(proposal.engine, "static-errors", "1 static-check error", started, tokens,
                          [SECRET_IN_MODULE])
            self._keep_best(proposal, code, None)
            return Feedback(f"The static checks found:\n- {SECRET_IN_MODULE}", code, proposal.answer,
                            proposal.engine)
        issues = check_module(code, self.analysis, self.task.functions, trusted=proposal.trusted,
                              unread=proposal.unread_inputs)
        blocking = errors(issues)
        if blocking:
            problems = [str(i) for i in blocking]
            self._attempt(proposal.engine, "static-errors", f"{len(blocking)} static-check errors", started,
                          tokens, problems)
            if not any(issue.security for issue in blocking):  # a module that reaches the system is no draft
                self._keep_best(proposal, code, None)
            return Feedback("The static checks found:\n" + "\n".join(f"- {p}" for p in problems),
                            code, proposal.answer, proposal.engine)
        self.warnings = [str(i) for i in issues if i.severity == "warning"]
        self.say("validate", f"running the {proposal.engine} candidate on the sample")
        original, candidate = self._run_both(code)
        if original is None:
            return None
        if candidate.status != "ok":
            detail = candidate.describe_error()
            self._attempt(proposal.engine, "failed-run", detail, started, tokens)
            self._keep_best(proposal, code, None)
            hint = " Look for a loop that never ends." if candidate.status == "timeout" else ""
            return Feedback(f"Running your module on the sample data failed: {detail}.{hint}",
                            code, proposal.answer, proposal.engine)
        report = compare_outputs(original, candidate)
        if report.valid:
            self._attempt(proposal.engine, "valid", "; ".join(c.detail for c in report.checks), started, tokens)
            self.valid = (proposal, code, report)
            return None
        differences = report.differences
        self._attempt(proposal.engine, "differs", "; ".join(f"{c.what}: {c.detail}" for c in differences),
                      started, tokens, [e for c in differences for e in c.examples])
        self.best = (proposal, code, report)
        return Feedback("Running the script and your module on the same sample data gave different "
                        f"results:\n{report.text()}\n{_describe_original(original)}",
                        code, proposal.answer, proposal.engine)

    def _keep_best(self, proposal: Proposal, code: str, report: ValidationReport | None) -> None:
        if self.best is None or self.best[2] is None:
            self.best = (proposal, code, report)

    def _run_both(self, code: str) -> tuple[Outputs | None, Outputs]:
        """The original's outputs (run once, alongside the first candidate) and the candidate's."""
        def candidate() -> Outputs:
            return run_candidate(code, self.plan, script_dir=self.script_dir, timeout=self.timeout)

        if self.original is None:
            self.say("original", "running the script on the sample")
            target = self.script_path or Path("script.py")
            with ThreadPoolExecutor(max_workers=2) as pool:
                original = pool.submit(run_original, target, self.analysis, self.plan, timeout=self.timeout)
                theirs = pool.submit(candidate)
                try:
                    self.original, outputs = original.result(), theirs.result()
                except BaseException:
                    # Ctrl-C: the pool would wait for both runs to reach their time limit
                    stop_all()
                    raise
            if self.original.status != "ok":
                missed = _missed_inputs(self.original, self.analysis, self.plan, self.script_dir)
                if missed and self.may_restart:
                    raise _InputsFound(missed)
                self.error = (f"the original script failed on the sample inputs: {self.original.describe_error()}; "
                              "give representative data with --data NAME=PATH, more rows with --sample-rows, "
                              "or a longer --timeout")
                return None, outputs
            return self.original, outputs
        return self.original, candidate()

    def _attempt(self, engine: str, outcome: str, detail: str, started: float, tokens: int = 0,
                 problems: Sequence[str] = ()) -> None:
        attempt = Attempt(len(self.attempts) + 1, engine, outcome, detail,
                          round(time.perf_counter() - started, 3), tokens, list(problems))
        self.attempts.append(attempt)
        self.say(engine, f"{outcome}: {detail[:160]}")

    # -- the result --------------------------------------------------------------------------
    def result(self, started: float, secrets: list[str], source_text: str | None) -> RewriteResult:
        if self.valid is None and self.fallback is not None:
            self.valid = self.fallback
            self.error = None
        chosen = self.valid or self.best
        validation = chosen[2] if chosen else None
        if self.valid is not None:
            ok = [c.what for c in validation.checks if c.status == "match"]
            tries = f"{len(self.attempts)} attempt{'s' if len(self.attempts) != 1 else ''}"
            if chosen[0].opaque_steps:
                # the outputs match, but rows through an opaque step have no provenance:
                # forget and redact could not find them, so this is no valid pipeline
                status = "reproduced"
                message = (f"reproduces the script on the sample ({', '.join(ok)} match, {chosen[0].engine} "
                           f"engine, {tries}), but {len(chosen[0].opaque_steps)} steps run the script's own "
                           "code without row provenance, so forget and redact cannot trace rows through them")
            else:
                status = "valid"
                message = f"validated on the sample: {', '.join(ok)} match ({chosen[0].engine} engine, {tries})"
        elif self.error is None and chosen is not None:
            status = "invalid"
            if validation is not None:
                message = f"not valid after {len(self.attempts)} attempts: " + "; ".join(
                    f"{c.what} {c.detail}" for c in validation.differences)
            else:
                message = f"not valid after {len(self.attempts)} attempts: {self.attempts[-1].detail}"
        else:
            status = "error"
            message = self.error or (self.attempts[-1].detail if self.attempts else "no engine ran")
            if self.error is None and self.attempts:
                message = f"no usable candidate after {len(self.attempts)} attempts: {self.attempts[-1].detail}"
        code = None
        if chosen is not None and status != "error":
            code = _finished(chosen[1], self.analysis, status, message)
        elif chosen is not None and self.original is not None and self.original.status != "ok":
            code = None  # nothing was validated: do not offer a module
        proposal = chosen[0] if chosen else None
        if proposal is not None and proposal.opaque_steps and status != "error":
            where = "; ".join(f"{s['stage']} lines {s['lines'][0]}-{s['lines'][1]}" for s in proposal.opaque_steps)
            advice = "" if self.llm_configured else f"; to rewrite them with an LLM, {HOW_TO_CONFIGURE}"
            self.warnings.append(f"{len(proposal.opaque_steps)} steps run the script's own code as opaque "
                                 f"Python, without row provenance ({where}){advice}")
        report = RewriteReport(
            script=self.analysis.filename, status=status, message=message,
            engine=proposal.engine if proposal else None,
            stages=self._stage_statuses(status, validation, proposal),
            attempts=self.attempts, validation=validation, sample=self.plan.describe(),
            usage=self.usage, seconds=time.perf_counter() - started,
            opaque_steps=proposal.opaque_steps if proposal else [],
            pandas_steps=proposal.pandas_steps if proposal else [],
            notes=proposal.notes if proposal else [], warnings=self.warnings, secrets=secrets,
            sandbox=self.original.protections if self.original is not None else {},
        )
        return RewriteResult(status, code, source_text if source_text is not None else self.analysis.source,
                             self.analysis.filename, self.script_dir, report)

    def _stage_statuses(self, status, validation, proposal) -> list[StageStatus]:
        checks = {c.what: c for c in validation.checks} if validation else {}
        statuses = []
        for name, stage in self.analysis.stages.items():
            if not stage.statements:
                continue
            if name in ("imports", "helpers"):
                statuses.append(StageStatus(name, stage.describe(), "shared", note="kept where the pipeline uses them"))
                continue
            if name in ("output", "irrelevant"):
                note = "writes result files" if name == "output" else "prints, plots or dead code"
                statuses.append(StageStatus(name, stage.describe(), "dropped", note=note))
                continue
            engine = proposal.engine if proposal else ""
            note = ""
            if self.unsupported is not None and self.unsupported.stage == name:
                note = f"rules: {self.unsupported.reason}"
            if proposal is not None and any(s["stage"] == name for s in proposal.opaque_steps):
                note = "runs the script's code as opaque Python"
            check = checks.get(_CHECK_OF_STAGE[name])
            if status == "error" or proposal is None:
                state = "not-rewritten"
            elif check is None:
                state = "rewritten"
                note = note or "the script produces nothing to compare it with"
            else:
                state = "validated" if check.status == "match" else "differs"
            statuses.append(StageStatus(name, stage.describe(), state, engine, note))
        return statuses


def _opaque_problems(proposal: Proposal) -> str:
    steps = "\n".join(f"- {s['stage']}, lines {s['lines'][0]}-{s['lines'][1]}: {s['reason']}"
                      for s in proposal.opaque_steps)
    return ("This module is equivalent to the script, but these parts still run the script's own code "
            f"as opaque Python, without provenance:\n{steps}\nRewrite them with the lester DSL.")


def _lines(lines: tuple[int, int] | None) -> str:
    return f" (lines {lines[0]}-{lines[1]})" if lines else ""


def _describe_original(original: Outputs) -> str:
    parts = []
    if original.prepared is not None:
        frame = original.prepared
        dtypes = ", ".join(f"{c} ({t})" for c, t in frame.dtypes.astype(str).items())
        parts.append(f"The script's prepared data has {len(frame)} rows and columns {dtypes}; first rows:\n"
                     f"{frame.head(3).to_string()}")
    for role in ("X", "y"):
        value = getattr(original, role)
        if value is not None:
            parts.append(f"The script's {role} has shape {tuple(value.shape)}.")
    return "\n".join(parts)


def _with_helpers(code: str, analysis: ScriptAnalysis) -> str:
    """The candidate with the script's helper functions and constants it uses but lacks."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined |= {t.id for t in targets if isinstance(t, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    wanted = loaded - defined - bound - set(dir(builtins))
    additions: list[str] = []
    # a copied helper may itself need constants or helpers
    for _ in range(3):
        for statement in analysis.statements:
            names = statement.defines if statement.kind == "def" else statement.rebinds
            if names & wanted and statement.code not in additions and (
                statement.kind == "def" or _is_constant(statement.code)
            ):
                additions.append(statement.code)
                wanted |= set(statement.uses) - defined
        wanted -= defined
    if not additions:
        return code
    ordered = [s.code for s in analysis.statements if s.code in additions]
    lines = code.splitlines()
    insert_at = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)
        ):
            insert_at = node.end_lineno
    block = ["", ""] + "\n\n\n".join(ordered).splitlines() + [""]
    return "\n".join(lines[:insert_at] + block + lines[insert_at:]) + "\n"


def _is_constant(code: str) -> bool:
    try:
        node = ast.parse(code).body[0]
    except (SyntaxError, IndexError):
        return False
    if not isinstance(node, ast.Assign):
        return False
    try:
        value = ast.literal_eval(node.value)
    except ValueError:
        return False
    # an empty container is an accumulator the script fills, not a constant
    return not (isinstance(value, (list, dict, set, tuple)) and not value)


def _finished(code: str, analysis: ScriptAnalysis, status: str, message: str) -> str:
    """The final module: formatted, with a header saying where it came from."""
    code = _formatted(code)
    name = Path(analysis.filename).name
    if status == "valid":
        header = f"# Rewritten by `lester rewrite` from {name}; {message}.\n"
    elif status == "reproduced":
        header = (f"# lester rewrite: REPRODUCED, NOT VALID. Rewritten from {name}; it {message}.\n"
                  "# The report names the opaque steps.\n")
    else:
        header = (f"# lester rewrite: NOT VALID. Rewritten from {name}, but {message}.\n"
                  "# Check it before use; the report lists the differences.\n")
    return header + code


def _formatted(code: str) -> str:
    """``ruff format`` when it is installed; the code unchanged otherwise."""
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(os.sys.executable).parent))
    if ruff is None:
        return code
    try:
        done = subprocess.run([ruff, "format", "--line-length", "100", "-"], input=code, text=True,
                              capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return code
    return done.stdout if done.returncode == 0 and done.stdout.strip() else code


def _write_new(target: Path, text: str, force: bool) -> None:
    if target.exists() and not force:
        raise RewriteError(f"{target} exists; pass --force (force=True) to overwrite it")
    text = mask(text)  # a module or report is read by people and checked in: never a secret
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.lester-tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
