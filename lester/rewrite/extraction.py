"""Find the Python module in an LLM's answer: a fenced block, or the answer itself.

Example:
    >>> extract_code("Here it is:\\n```python\\ndef dataprep():\\n    ...\\n```")
    'def dataprep():\\n    ...\\n'
"""

from __future__ import annotations

import ast
import re

from lester.errors import LesterError

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
_OPENING = re.compile(r"^[ \t]*(```+|~~~+)", re.MULTILINE)
_CODE_START = re.compile(r"^(import |from |def |class |@|[A-Z_][A-Z0-9_]* = )", re.MULTILINE)


class ExtractionError(LesterError, ValueError):
    """The answer holds no usable Python module; the message says what was wrong with it."""


def extract_code(answer: str) -> str:
    """The module in ``answer``.

    Fenced blocks win (the one defining ``dataprep``, else the longest Python block); an
    answer without fences is used when it parses as Python. A fence that is opened but never
    closed means the answer was cut off.
    """
    text = answer.replace("\r\n", "\n")
    blocks = [(lang.lower(), body) for _, lang, body in _FENCE.findall(text)]
    python = [body for lang, body in blocks if lang in ("python", "py", "python3", "")]
    if python:
        chosen = next((b for b in python if re.search(r"^def dataprep\b", b, re.MULTILINE)), None) or max(python, key=len)
        return _parsed(chosen, "the fenced code block")
    openings = len(_OPENING.findall(text))
    if openings % 2 == 1:
        raise ExtractionError("the answer ends inside a code block that was never closed: it was cut off "
                              "(truncated); answer with the complete module")
    if blocks:
        langs = sorted({lang or "(none)" for lang, _ in blocks})
        raise ExtractionError(f"the answer's code blocks are not Python (languages: {', '.join(langs)})")
    stripped = text.strip()
    if not stripped:
        raise ExtractionError("the answer is empty")
    try:
        tree = ast.parse(stripped)
        if any(isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for node in tree.body):
            return stripped + "\n"
    except SyntaxError:
        pass
    start = _CODE_START.search(stripped)
    if start is not None:
        return _parsed(stripped[start.start():], "the code in the answer")
    first = stripped.splitlines()[0][:80]
    raise ExtractionError(f"the answer contains no Python code (it starts: {first!r}); answer with the "
                          "module in a ```python fenced block")


def _parsed(code: str, what: str) -> str:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        truncated = " (it looks cut off: the answer may have been truncated)" if exc.lineno and exc.lineno >= len(code.splitlines()) - 1 else ""
        raise ExtractionError(f"{what} does not parse: line {exc.lineno}, column {exc.offset}: {exc.msg}: "
                              f"{line!r}{truncated}") from None
    return code if code.endswith("\n") else code + "\n"
