"""The rewrite report: per-stage status, validation evidence, attempts, time and tokens.

Renderings of one :class:`RewriteReport`: ``to_dict()`` (written as JSON by
``lester rewrite --report``), ``text()``, ``validation_table()`` (a rich table, printed by the
CLI and the demo) and ``html()`` (Jupyter).
Every string passes :func:`lester.secrets.mask` before it leaves, so an API key, a token or
a URL's password never reaches a report.
"""

from __future__ import annotations

import html as html_escape
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.markup import escape
from rich.table import Table

from lester.rewrite.comparison import ValidationReport
from lester.rewrite.llm import Usage
from lester.secrets import mask


@dataclass
class Attempt:
    """One candidate (or failed try) from one engine."""

    number: int
    engine: str
    outcome: str  # valid | differs | failed-run | static-errors | no-code | unsupported | error
    detail: str = ""
    seconds: float = 0.0
    tokens: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class StageStatus:
    """How one stage of the script ended up in the module."""

    stage: str
    lines: str
    status: str  # rewritten | validated | differs | dropped | shared | not-rewritten
    engine: str = ""
    note: str = ""


@dataclass
class RewriteReport:
    script: str
    status: str  # valid | reproduced | invalid | error
    message: str
    engine: str | None
    stages: list[StageStatus]
    attempts: list[Attempt]
    validation: ValidationReport | None
    sample: list[str]
    usage: Usage
    seconds: float
    opaque_steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pandas_steps: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output: str | None = None
    secrets: list[str] = field(default_factory=list, repr=False)
    # what the sandbox enforced on the script's run: protection -> "on: how" / "off: why"
    sandbox: dict[str, str] = field(default_factory=dict)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return mask(value, self.secrets)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._clean(v) for v in value]
        return value

    def to_dict(self) -> dict[str, Any]:
        usage = self.usage
        return self._clean({
            "script": self.script,
            "status": self.status,
            "valid": self.status == "valid",
            "message": self.message,
            "engine": self.engine,
            "output": self.output,
            "stages": [vars(s) for s in self.stages],
            "attempts": [vars(a) for a in self.attempts],
            "validation": self.validation.to_dict() if self.validation else None,
            "sample": self.sample,
            "opaque_steps": self.opaque_steps,
            "pandas_steps": self.pandas_steps,
            "notes": self.notes,
            "warnings": self.warnings,
            "sandbox": self.sandbox,
            "seconds": round(self.seconds, 3),
            "llm": {
                "calls": usage.calls, "cached_calls": usage.cached_calls,
                "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                "cost": usage.cost, "seconds": round(usage.seconds, 3), "models": usage.models,
            },
        })

    def text(self) -> str:
        lines = [f"{self.script}: {self.status.upper()} - {self.message}"]
        lines.append("stages:")
        for s in self.stages:
            by = f" by {s.engine}" if s.engine else ""
            note = f" ({s.note})" if s.note else ""
            lines.append(f"  {s.stage:<16} lines {s.lines:<18} {s.status}{by}{note}")
        if self.opaque_steps:
            lines.append("opaque steps (kept as Python functions):")
            lines += [f"  {o['stage']} lines {o['lines'][0]}-{o['lines'][1]}: {o['reason']}" for o in self.opaque_steps]
        if self.pandas_steps:
            lines.append("pandas steps (the script's pandas code in Frame.pipe; row provenance by index):")
            lines += [f"  lines {o['lines'][0]}-{o['lines'][1]}: {o['reason']}" for o in self.pandas_steps]
        lines.append("attempts:")
        for a in self.attempts:
            tokens = f", {a.tokens} tokens" if a.tokens else ""
            lines.append(f"  {a.number}. {a.engine:<6} {a.outcome:<14} {a.seconds:5.1f} s{tokens}  {a.detail}")
            lines += [f"       - {p}" for p in a.problems[:6]]
        if self.validation is not None:
            lines.append(f"validation (original: {self.validation.original or 'no results found'}):")
            lines += ["  " + line for line in self.validation.text().splitlines()]
        if self.sample:
            lines.append("sample inputs:")
            lines += [f"  {s}" for s in self.sample]
        if self.sandbox:
            lines.append("sandbox:")
            lines += [f"  {name:<14} {state}" for name, state in self.sandbox.items()]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"note: {n}" for n in self.notes]
        lines.append(f"time {self.seconds:.1f} s; {self.usage.describe()}")
        return mask("\n".join(lines), self.secrets)

    def validation_table(self, title: str = "validation") -> Table:
        """The validation checks as a rich table: output, status, evidence (with examples)."""
        table = Table("output", "status", "evidence", title=title)
        for check in self.validation.checks if self.validation is not None else []:
            colour = {"match": "green", "differ": "red"}.get(check.status, "yellow")
            evidence = mask("\n".join([check.detail, *check.examples]), self.secrets)
            table.add_row(check.what, f"[{colour}]{check.status}[/]", escape(evidence))
        return table

    def html(self, diff: str = "") -> str:
        esc: Callable[[str], str] = lambda text: html_escape.escape(mask(str(text), self.secrets))
        colour = {"valid": "#1a7f37", "reproduced": "#bf8700", "invalid": "#bf8700",
                  "error": "#cf222e"}.get(self.status, "black")
        parts = [(f"<div><p><b>lester rewrite</b> {esc(self.script)}: "
                  f"<b style='color:{colour}'>{esc(self.status)}</b> &mdash; {esc(self.message)}</p>")]
        if self.validation is not None:
            rows = "".join(
                (f"<tr><td>{esc(c.what)}</td><td>{esc(c.status)}</td><td>{esc(c.detail)}"
                 + "".join(f"<br><code>{esc(e)}</code>" for e in c.examples) + "</td></tr>")
                for c in self.validation.checks)
            parts.append("<table><tr><th>output</th><th>status</th><th>evidence</th></tr>" + rows + "</table>")
        stage_rows = "".join(f"<tr><td>{esc(s.stage)}</td><td>{esc(s.lines)}</td><td>{esc(s.status)}</td>"
                             f"<td>{esc(s.engine)}</td><td>{esc(s.note)}</td></tr>" for s in self.stages)
        parts.append("<table><tr><th>stage</th><th>lines</th><th>status</th><th>engine</th><th></th></tr>"
                     + stage_rows + "</table>")
        attempts = "".join(f"<li>{esc(a.engine)}: {esc(a.outcome)} ({a.seconds:.1f} s) {esc(a.detail)}</li>"
                           for a in self.attempts)
        parts.append(f"<details><summary>{len(self.attempts)} attempts; {esc(self.usage.describe())}</summary>"
                     f"<ol>{attempts}</ol></details>")
        if diff:
            rendered = []
            for line in diff.splitlines():
                style = ("color:#1a7f37" if line.startswith("+") else "color:#cf222e" if line.startswith("-")
                         else "color:#6e7781" if line.startswith("@@") else "")
                rendered.append(f"<span style='{style}'>{esc(line)}</span>")
            parts.append("<details open><summary>diff: script &rarr; pipeline module</summary>"
                         f"<pre>{chr(10).join(rendered)}</pre></details>")
        parts.append("</div>")
        return "".join(parts)
