"""What the rules compiler hands back: the pipeline module, its sources, and what stayed opaque."""

from __future__ import annotations

from dataclasses import dataclass, field

from lester.errors import LesterError


@dataclass(frozen=True)
class OpaqueStep:
    """A part of the script kept as the original Python code instead of being translated.

    The result stays correct (it runs the script's own code) but its provenance is coarse:
    every output of the step depends on every input it was given.
    """

    stage: str
    lines: tuple[int, int]
    reason: str


@dataclass
class RulesProgram:
    """A compiled pipeline module.

    ``code`` is the complete module text; ``sources`` maps each ``dataprep`` parameter to its
    default path (the script's own relative path); ``opaque_steps`` lists what was wrapped
    rather than translated; ``pandas_steps`` the statements kept as the script's pandas code
    in a ``Frame.pipe`` step (row provenance kept, by index); ``notes`` records assumptions the
    translation relies on (for example that a dict used as a join index has unique keys).
    """

    code: str
    sources: dict[str, str]
    opaque_steps: list[OpaqueStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pandas_steps: list[OpaqueStep] = field(default_factory=list)


class RulesUnsupported(LesterError):
    """A part of the script can neither be compiled nor kept correct as an opaque step.

    ``stage`` is the pipeline stage it belongs to, ``lines`` the 1-based inclusive line range
    in the script, ``reason`` what the compiler could not handle.
    """

    def __init__(self, stage: str, lines: tuple[int, int], reason: str, filename: str = "<script>"):
        self.stage = stage
        self.lines = (int(lines[0]), int(lines[1]))
        self.reason = reason
        self.filename = filename
        where = f"line {self.lines[0]}" if self.lines[0] == self.lines[1] else f"lines {self.lines[0]}-{self.lines[1]}"
        self.blockers: list[RulesUnsupported] = [self]
        super().__init__(f"{filename}, {where} ({stage}): {reason}")

    @property
    def where(self) -> str:
        return f"line {self.lines[0]}" if self.lines[0] == self.lines[1] else f"lines {self.lines[0]}-{self.lines[1]}"


def all_blockers(found: list[RulesUnsupported]) -> RulesUnsupported:
    """One error for every statement the rules could not read, the first one's stage and lines
    first (the rest are in ``blockers``, and in the message)."""
    if len(found) == 1:
        return found[0]
    first = found[0]
    listed = "; ".join(f"{b.where} ({b.stage}): {b.reason}" for b in found)
    error = RulesUnsupported(first.stage, first.lines, f"{len(found)} statements are not translated: {listed}",
                             first.filename)
    error.blockers = list(found)
    return error
