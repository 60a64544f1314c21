"""What :mod:`lester.pipeline` and :mod:`lester.ivm` both need about models, below both: the
metrics a run records (:mod:`lester.models.metrics`, defined once), the update statistics
captured with a run and the unlearning strategies (:mod:`lester.models.unlearning`), and the
updates a deletion-vector request makes from those statistics alone
(:mod:`lester.models.downdate`). Nothing here imports :mod:`lester.pipeline` or
:mod:`lester.ivm`.
"""
