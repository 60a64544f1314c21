"""Find the Python module in an LLM's answer: a fenced block, or the answer itself.

Example:
    >>> extract_code("Here it is:\\n```python\\ndef dataprep():\\n    ...\\n```")
    'def dataprep():\\n    ...\\n'
"""

from __future__ import annotations

import ast
import re

from lester.errors import LesterError

_FENCE_LINE = re.compile(r"[ \t]*(```+|~~~+)[ \t]*([\w+.-]*)")
# what ast.parse raises besides SyntaxError: ValueError for NUL bytes, MemoryError or
# RecursionError for nesting deeper than its stack
_UNPARSABLE = (SyntaxError, ValueError, MemoryError, RecursionError)
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
    blocks = _fenced_blocks(text)
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
    except _UNPARSABLE:
        pass
    start = _CODE_START.search(stripped)
    if start is not None:
        return _parsed(stripped[start.start():], "the code in the answer")
    first = stripped.splitlines()[0][:80]
    raise ExtractionError(f"the answer contains no Python code (it starts: {first!r}); answer with the "
                          "module in a ```python fenced block")


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The closed fenced blocks of ``text`` as (language, body), in one pass over its lines.

    A scan, not one regular expression: a lazy pattern looking for each opening's closing
    fence takes quadratic time on an answer of many unclosed openings (minutes for 256 KB).
    A block still open at the end was cut off; it is left out.
    """
    blocks: list[tuple[str, str]] = []
    fence: str | None = None
    language, body = "", []
    lines = text.split("\n")  # only "\n" ends a line here, as in the fences' own definition
    for number, line in enumerate(lines):
        if fence is None:
            opening = _FENCE_LINE.match(line)
            if opening and number < len(lines) - 1:  # an opening line ends with a newline
                fence, language, body = opening.group(1), opening.group(2).lower(), []
        elif line.strip(" \t") == fence:
            blocks.append((language, "".join(body)))
            fence = None
        else:
            body.append(line + "\n")
    return blocks


def _parsed(code: str, what: str) -> str:
    try:
        ast.parse(code)
    except (MemoryError, RecursionError):
        raise ExtractionError(f"{what} is too deeply nested for Python's parser") from None
    except ValueError as exc:  # NUL bytes
        raise ExtractionError(f"{what} does not parse: {exc}") from None
    except SyntaxError as exc:
        line = (exc.text or "").strip()
        truncated = " (it looks cut off: the answer may have been truncated)" if exc.lineno and exc.lineno >= len(code.splitlines()) - 1 else ""
        where = f"line {exc.lineno}, column {exc.offset}: " if exc.lineno else ""
        quoted = f": {line!r}" if line else ""
        raise ExtractionError(f"{what} does not parse: {where}{exc.msg}{quoted}{truncated}") from None
    return code if code.endswith("\n") else code + "\n"
