"""The rewriter: messy scripts into validated lester pipeline modules.

This package is callable: ``lt.rewrite(...)`` is :func:`lester.rewrite.rewriter.rewrite`
(the package stays importable as ``lester.rewrite.analysis`` and so on).

    >>> import lester as lt
    >>> result = lt.rewrite("messy.py")          # doctest: +SKIP
    >>> result.status                            # doctest: +SKIP
    'valid'
    >>> result.write("pipeline.py")              # doctest: +SKIP

The flow: :mod:`~lester.rewrite.analysis` (libcst: inputs, outputs, stages by def-use,
chunks) -> an engine (:mod:`~lester.rewrite.engines`: the offline rules compiler, or an LLM
through :mod:`~lester.rewrite.llm` with :mod:`~lester.rewrite.prompts`) -> static checks
(:mod:`~lester.rewrite.static_checks`) -> validation on sampled inputs
(:mod:`~lester.rewrite.sampling`, :mod:`~lester.rewrite.sandbox`,
:mod:`~lester.rewrite.comparison`) -> repair -> :class:`RewriteResult` and its report.
"""

import sys
import types

from lester import lazy_exports

# the names load on first use, so `lester rewrite --help` imports no libcst, pandas or sklearn
_EXPORTS = {
    "ScriptSyntaxError": "lester.rewrite.analysis", "analyze_path": "lester.rewrite.analysis",
    "analyze_source": "lester.rewrite.analysis", "Engine": "lester.rewrite.engines",
    "Feedback": "lester.rewrite.engines", "LLMEngine": "lester.rewrite.engines",
    "Proposal": "lester.rewrite.engines", "RewriteTask": "lester.rewrite.engines",
    "RulesEngine": "lester.rewrite.engines", "LLMConfig": "lester.rewrite.llm",
    "LLMError": "lester.rewrite.llm", "LLMNotConfigured": "lester.rewrite.llm",
    "RewriteError": "lester.rewrite.rewriter", "RewriteResult": "lester.rewrite.rewriter",
    "rewrite": "lester.rewrite.rewriter", "SamplingError": "lester.rewrite.sampling",
}
__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)

__all__ = [
    "Engine",
    "Feedback",
    "LLMConfig",
    "LLMEngine",
    "LLMError",
    "LLMNotConfigured",
    "Proposal",
    "RewriteError",
    "RewriteResult",
    "RewriteTask",
    "RulesEngine",
    "SamplingError",
    "ScriptSyntaxError",
    "analyze_path",
    "analyze_source",
    "rewrite",
]


class _CallablePackage(types.ModuleType):
    """``lester.rewrite`` is a package and, called, the :func:`rewrite` function: exporting the
    function under the package's own name would hide the package's modules."""

    def __call__(self, *args, **kwargs):
        from lester.rewrite.rewriter import rewrite

        return rewrite(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
