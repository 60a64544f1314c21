"""The errors lester raises.

Every error names what is at fault (the operation, column, file, line or function) so that a
user can fix it without reading a traceback. All derive from :class:`LesterError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class LesterError(Exception):
    """Base class of every error lester raises on purpose."""


class ColumnNotFoundError(LesterError, KeyError):
    """An operation named a column its input does not have.

    Example message::

        filter(year(mail_dat) >= 2022): unknown column 'mail_dat'; the input has columns
        ['mail_id', 'mail_date', 'mail_text']
    """

    def __init__(self, operation: str, missing: Sequence[str], available: Sequence[str]):
        self.operation = operation
        self.missing = list(missing)
        self.available = list(available)
        names = ", ".join(repr(m) for m in self.missing)
        plural = "s" if len(self.missing) > 1 else ""
        super().__init__(
            f"{operation}: unknown column{plural} {names}; "
            f"the input has columns {self.available}"
        )

    def __str__(self) -> str:  # KeyError would quote the whole message otherwise
        return self.args[0]


class PlanError(LesterError, ValueError):
    """An operation was given arguments that cannot form a valid plan."""


class SqlExpressionError(LesterError, ValueError):
    """A SQL expression could not be parsed or evaluated."""

    def __init__(self, operation: str, expression: str, detail: str):
        self.operation = operation
        self.expression = expression
        self.detail = detail
        super().__init__(f"{operation}: invalid SQL expression {expression!r}: {detail}")


class UserFunctionError(LesterError, RuntimeError):
    """A user-supplied Python function raised on a row.

    ``row_id`` maps each source occurrence to the provenance id of the failing row, so the
    offending input row can be found with ``lester trace`` or by its key. ``arguments`` holds
    the row's values for code that catches the error; the message shows them only when
    ``hidden`` is None (``lester --show-values``): rows are often personal data, and messages
    end up in consoles, logs and reports.

    ``detail`` replaces the cause's own message (the caller's copy of it, without the row's
    values); ``hidden`` names the columns whose values were left out.
    """

    def __init__(
        self,
        operation: str,
        function: str,
        row_id: Mapping[str, Any] | None,
        arguments: Mapping[str, Any] | None,
        cause: BaseException,
        *,
        detail: str | None = None,
        hidden: Sequence[str] | None = None,
    ):
        self.operation = operation
        self.function = function
        self.row_id = dict(row_id) if row_id is not None else None
        self.arguments = dict(arguments) if arguments is not None else None
        where = f" on the row with provenance {self.row_id}" if self.row_id is not None else ""
        if hidden is not None:
            columns = f"column{'s' if len(hidden) != 1 else ''} {', '.join(hidden)}; " if hidden else ""
            args = f" ({columns}values hidden; rerun with --show-values to see them)"
        else:
            args = f" (arguments {self.arguments})" if self.arguments is not None else ""
        text = str(cause) if detail is None else detail
        super().__init__(
            f"{operation}: function {function}() raised {type(cause).__name__}: {text}{where}{args}"
        )


class SourceError(LesterError, ValueError):
    """A data source could not be read: missing file, malformed line, bad key column."""

    def __init__(self, path: str, detail: str, line: int | None = None):
        self.path = path
        self.line = line
        self.detail = detail
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {detail}")


class ExecutionError(LesterError, RuntimeError):
    """An engine failed to execute an operation (for example a type mismatch in a join)."""


class StoreError(LesterError, RuntimeError):
    """The artifact store cannot be used as asked: missing, locked, read-only, full or damaged.

    ``path`` is the store (or the file in it) at fault; the message says which command or
    option repairs it.
    """

    def __init__(self, path: Any, message: str):
        self.path = path
        super().__init__(message)


class StoreNotFoundError(StoreError, FileNotFoundError):
    """A command that only reads was pointed at a folder that holds no lester store."""


class StoreLockedError(StoreError):
    """Another process held the store's writer lock for longer than the lock timeout.

    ``holder`` is what the holder wrote into the lock file (pid, command, since), as far as
    it could be read.
    """

    def __init__(self, path: Any, message: str, holder: Mapping[str, Any] | None = None):
        self.holder = dict(holder or {})
        super().__init__(path, message)


class StoreReadOnlyError(StoreError, PermissionError):
    """A command that writes the store found it read-only (permissions or file system)."""


class StoreFullError(StoreError, OSError):
    """The store's disk filled up (or its quota ran out) while a run was written; nothing was
    registered."""
