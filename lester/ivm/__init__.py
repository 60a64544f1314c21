"""Deletion and redaction with incremental view maintenance, and model unlearning.

``forget`` and ``redact`` write a new version of every affected run (rows removed or
re-derived, features re-encoded, model updated); :mod:`lester.ivm.unlearning` holds the model
update strategies.
"""

from lester.ivm.forget import forget
from lester.ivm.maintain import MaintenanceReport, RunChange
from lester.ivm.redact import redact
from lester.ivm.requests import RequestError
from lester.ivm.unlearning import (
    ModelUpdate,
    UnlearningError,
    model_parameters,
    strategy_for,
    update_model,
)
from lester.ivm.verify import Verification

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
