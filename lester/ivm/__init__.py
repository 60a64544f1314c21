"""Deletion and redaction with incremental view maintenance, and model unlearning.

``forget`` and ``redact`` write a new version of every affected run (rows removed or
re-derived, features re-encoded, model updated); :mod:`lester.models.unlearning` holds the model
update strategies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lester import lazy_exports

if TYPE_CHECKING:  # pragma: no cover
    from lester.ivm.forget import forget
    from lester.ivm.maintain import MaintenanceReport, RunChange
    from lester.ivm.redact import redact
    from lester.ivm.requests import RequestError
    from lester.ivm.verify import Verification
    from lester.models.unlearning import (
        ModelUpdate,
        UnlearningError,
        model_parameters,
        strategy_for,
        update_model,
    )

_EXPORTS = {
    "forget": "lester.ivm.forget",
    "MaintenanceReport": "lester.ivm.maintain",
    "RunChange": "lester.ivm.maintain",
    "redact": "lester.ivm.redact",
    "RequestError": "lester.ivm.requests",
    "ModelUpdate": "lester.models.unlearning",
    "UnlearningError": "lester.models.unlearning",
    "model_parameters": "lester.models.unlearning",
    "strategy_for": "lester.models.unlearning",
    "update_model": "lester.models.unlearning",
    "Verification": "lester.ivm.verify",
}
__all__ = [
    "MaintenanceReport",
    "ModelUpdate",
    "RequestError",
    "RunChange",
    "UnlearningError",
    "Verification",
    "forget",
    "model_parameters",
    "redact",
    "strategy_for",
    "update_model",
]
# imported on first use: `lester forget --help` loads lester.ivm.cli, not scikit-learn
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
