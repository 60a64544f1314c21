"""The offline rules engine: a deterministic compiler of messy data-science idioms into lester's DSL.

No LLM is needed: the script is parsed with libcst and read statement by statement into a
data-flow plan (row sets, filters, projections, joins, unions, group-bys), feature blocks
(one-hot, scalers, passthrough) and a label, then written out as a pipeline module with
``dataprep``, ``encode_features``, ``extract_label`` and ``make_model``.

Example:
    >>> from lester.rewrite.rules import compile_script
    >>> program = compile_script(open("messy.py").read(), filename="messy.py")   # doctest: +SKIP
    >>> program.sources                                                         # doctest: +SKIP
    {'customers': 'data/customers.csv', 'mails': 'data/mails.csv'}
    >>> program.opaque_steps                                                    # doctest: +SKIP
    []
"""

from lester.rewrite.rules.compiler import compile_script
from lester.rewrite.rules.program import OpaqueStep, RulesProgram, RulesUnsupported

__all__ = ["OpaqueStep", "RulesProgram", "RulesUnsupported", "compile_script"]
