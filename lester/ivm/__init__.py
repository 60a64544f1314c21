"""Deletion and redaction with incremental view maintenance, and model unlearning."""

from lester.ivm.unlearning import (
    ModelUpdate,
    UnlearningError,
    model_parameters,
    strategy_for,
    update_model,
)

__all__ = ["ModelUpdate", "UnlearningError", "model_parameters", "strategy_for", "update_model"]
