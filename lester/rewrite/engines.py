"""Engines turn a script into a candidate pipeline module.

The protocol is one method: ``propose(task, feedback=None) -> Proposal``. ``feedback`` carries
the evidence of the previous attempt (static-check errors, the exception, the differences
validation found, and the failing code), so an engine that learns from it (``repairs = True``)
can do better the next time. An engine that cannot rewrite part of a script raises
:class:`StageUnsupported` naming the stage and lines; the rewriter then hands the script to the
next engine or tells the user how to configure one.

* :class:`RulesEngine` adapts the offline rules compiler (``lester.rewrite.rules``,
  ``compile_script``): deterministic, no repairs.
* :class:`LLMEngine` asks an OpenAI-compatible endpoint, one conversation per rewrite, and
  chunks scripts larger than the token budget into several requests.

Writing another engine::

    class MyEngine:
        name = "mine"
        repairs = False
        def propose(self, task, feedback=None):
            return Proposal(self.name, code=my_compiler(task.analysis.source))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lester.errors import LesterError
from lester.rewrite import prompts
from lester.rewrite.analysis import PIPELINE_STAGES, ScriptAnalysis, estimate_tokens
from lester.rewrite.extraction import ExtractionError, extract_code
from lester.rewrite.llm import LLMClient, LLMConfig, Usage


class StageUnsupported(LesterError):
    """An engine cannot rewrite a stage of the script; names the stage and its lines."""

    def __init__(self, stage: str, lines: tuple[int, int] | None, reason: str, engine: str = "rules"):
        self.stage, self.lines, self.reason, self.engine = stage, lines, reason, engine
        where = f" (lines {lines[0]}-{lines[1]})" if lines else ""
        super().__init__(f"the {engine} engine cannot rewrite stage {stage}{where}: {reason}")


class EngineUnavailable(LesterError):
    """An engine cannot be used at all here (not installed, not configured)."""


@dataclass
class RewriteTask:
    """What every engine gets: the analysis, the functions to write, a look at the inputs."""

    analysis: ScriptAnalysis
    functions: list[str]
    inputs_preview: dict[str, str] = field(default_factory=dict)
    hint: str = ""
    inputs_head: dict[str, str] = field(default_factory=dict)  # the first lines uncut (preview cuts them)
    # module-level lists of names as the script's run on the sample left them (column lists it
    # computed from the data): the rules engine reads those it cannot evaluate as constants
    name_lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Feedback:
    """Why the previous candidate failed, and the candidate itself (None: no usable code)."""

    problems: str
    code: str | None = None
    answer: str | None = None
    engine: str = ""


@dataclass
class Proposal:
    """One candidate: the module's code, or ``error`` saying why the engine's answer had none."""

    engine: str
    code: str | None = None
    error: str | None = None
    answer: str | None = None
    opaque_steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    pandas_steps: list[dict[str, Any]] = field(default_factory=list)  # kept as pandas, provenance by index
    unread_inputs: list[str] = field(default_factory=list)  # inputs the compiler found no output depends on
    usage: Usage = field(default_factory=Usage)
    # a compiler's own output (opaque steps run the script's code, files and all): only the
    # structural static checks apply; an LLM's answer gets all of them
    trusted: bool = False


class Engine(Protocol):
    name: str
    repairs: bool

    def propose(self, task: RewriteTask, feedback: Feedback | None = None) -> Proposal: ...


class RulesEngine:
    """The offline rules compiler behind the engine protocol."""

    name = "rules"
    repairs = False  # deterministic: the same script gives the same candidate

    def propose(self, task: RewriteTask, feedback: Feedback | None = None) -> Proposal:
        try:
            from lester.rewrite.rules import RulesUnsupported, compile_script
        except ImportError as exc:
            raise EngineUnavailable(f"the rules engine is not available: {exc}") from None
        try:
            # the first lines of each input: its columns, as the script's readers will see them
            heads = {task.analysis.sources[name]: text
                     for name, text in (task.inputs_head or task.inputs_preview).items()
                     if name in task.analysis.sources}
            program = compile_script(task.analysis.source, filename=task.analysis.filename, heads=heads,
                                     name_lists=task.name_lists)
        except RulesUnsupported as exc:
            lines = tuple(exc.lines) if getattr(exc, "lines", None) else None
            raise StageUnsupported(getattr(exc, "stage", "dataprep"), lines,
                                   getattr(exc, "reason", str(exc))) from None
        steps = [
            {"stage": s.stage, "lines": list(s.lines), "reason": s.reason} for s in program.opaque_steps
        ]
        kept = [{"stage": s.stage, "lines": list(s.lines), "reason": s.reason} for s in program.pandas_steps]
        read = set(program.sources.values())
        unread = [i.path for i in task.analysis.inputs if i.path not in read] if not program.opaque_steps else []
        notes = list(program.notes) + [f"{path} is not read: no output depends on it" for path in unread]
        return Proposal(self.name, code=program.code, opaque_steps=steps, notes=notes,
                        sources=dict(program.sources), trusted=True, pandas_steps=kept, unread_inputs=unread)


class LLMEngine:
    """Rewrites through an OpenAI-compatible chat-completions endpoint."""

    name = "llm"
    repairs = True

    def __init__(self, config: LLMConfig, client: LLMClient | None = None):
        self.config = config
        self.client = client or LLMClient(config)
        self._messages: list[dict[str, str]] = []

    def propose(self, task: RewriteTask, feedback: Feedback | None = None) -> Proposal:
        usage = Usage()
        if not self._messages:
            self._messages = [{"role": "system", "content": prompts.render(
                "system", dsl_reference=prompts.dsl_reference())}]
            if feedback is None:
                return self._first(task, usage)
            # another engine's candidate is where this conversation starts
            self._messages.append({"role": "user", "content": _rewrite_prompt(task)})
            if feedback.code is not None:
                self._messages.append({"role": "assistant", "content": f"```python\n{feedback.code}```"})
        elif feedback is not None and feedback.answer is None and feedback.code is not None:
            self._messages.append({"role": "assistant", "content": f"```python\n{feedback.code}```"})
        self._messages.append({"role": "user", "content": prompts.render(
            "repair", problems=feedback.problems if feedback else "", functions=_functions(task))})
        return self._ask(usage)

    def _first(self, task: RewriteTask, usage: Usage) -> Proposal:
        analysis = task.analysis
        whole = _rewrite_prompt(task)
        if estimate_tokens(whole) <= self.config.token_budget:
            self._messages.append({"role": "user", "content": whole})
            return self._ask(usage)
        # a long script: one request per chunk, each extending the module so far
        module_so_far = "import lester as lt\n"
        proposal = Proposal(self.name)
        system = self._messages[:1]
        for chunk in analysis.chunks(max(self.config.token_budget // 2, 200)):
            self._messages = system + [{"role": "user", "content": prompts.render(
                "chunk", filename=analysis.filename, script=_numbered(analysis.source),
                sources=_sources(task), inputs_preview=_preview(task), chunk_stages=", ".join(chunk.stages),
                chunk_lines=", ".join(f"{a}-{b}" for a, b in chunk.lines), chunk=chunk.code,
                module_so_far=module_so_far, functions=_functions(task), hint=task.hint)}]
            proposal = self._ask(usage)
            if proposal.code is None:
                return proposal
            module_so_far = proposal.code
        return proposal

    def _ask(self, usage: Usage) -> Proposal:
        completion = self.client.complete(self._messages)
        usage.add(completion, self.config)
        answer = completion.text
        self._messages.append({"role": "assistant", "content": answer})
        if completion.finish_reason == "length":
            self.client.discard(completion)
            return Proposal(self.name, error="the answer was cut off at the output-token limit (truncated); "
                            "answer with a shorter, complete module", answer=answer, usage=usage)
        try:
            code = extract_code(answer)
        except ExtractionError as exc:
            # a refusal, prose or an empty answer: asked again next time, never replayed
            self.client.discard(completion)
            return Proposal(self.name, error=str(exc), answer=answer, usage=usage)
        self.client.keep(completion)  # a module that parses: worth the same answer next time
        return Proposal(self.name, code=code, answer=answer, usage=usage)


def _functions(task: RewriteTask) -> str:
    return ", ".join(f"{f}()" for f in task.functions)


def _numbered(source: str) -> str:
    return "\n".join(f"{n:>4}  {line}" for n, line in enumerate(source.splitlines(), start=1))


def _sources(task: RewriteTask) -> str:
    items = task.analysis.inputs
    if not items:
        return "- (none found)"
    return "\n".join(f"- {i.name} = {i.path!r}  (read at {task.analysis.locate(i.line)}"
                     f"{', a ' + i.kind if i.kind != 'file' else ''})" for i in items)


def _preview(task: RewriteTask) -> str:
    if not task.inputs_preview:
        return "(no preview)"
    return "\n".join(f"{name}:\n```\n{text.rstrip()}\n```" for name, text in task.inputs_preview.items())


def _stages(analysis: ScriptAnalysis) -> str:
    lines = []
    for name, stage in analysis.stages.items():
        if stage.statements:
            lines.append(f"- {name}: lines {stage.describe()}")
    roles = ", ".join(f"{role} = variable {var!r}" for role, var in analysis.roles.items())
    if roles:
        lines.append(f"- results: {roles}")
    return "\n".join(lines)


def _outputs(analysis: ScriptAnalysis) -> str:
    written = ", ".join(f"{o.path} (line {o.line})" for o in analysis.outputs)
    produced = [s for s in PIPELINE_STAGES if analysis.stages[s].statements]
    return (f"files {written}; " if written else "") + f"stages {', '.join(produced) or 'dataprep'}"


def _rewrite_prompt(task: RewriteTask) -> str:
    analysis = task.analysis
    return prompts.render(
        "rewrite", filename=analysis.filename, script=_numbered(analysis.source), sources=_sources(task),
        inputs_preview=_preview(task), stages=_stages(analysis), outputs=_outputs(analysis),
        functions=_functions(task), hint=task.hint,
    )
