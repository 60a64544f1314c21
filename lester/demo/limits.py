"""How many synthetic customers the demo can run with; importing this module is cheap (click
only), so a command line can check ``--customers`` before it loads pandas and scikit-learn.

Example:
    >>> import click
    >>> @click.command()
    ... @click.option("--customers", type=CUSTOMERS, default=1000)
    ... def demo(customers): ...
    >>> customers_problem(0)
    '--customers must be between 10 and 1,000,000 (got 0): the demo trains, forgets and retrains a model on them'
"""

from __future__ import annotations

import click

# Below 10 the split leaves the model a single class to learn (7 is the smallest that works
# with the demo's seed; 10 leaves a margin); above a million the demo's frames no longer fit
# the memory of a laptop and the story takes many minutes.
MIN_CUSTOMERS = 10
MAX_CUSTOMERS = 1_000_000

CUSTOMERS = click.IntRange(MIN_CUSTOMERS, MAX_CUSTOMERS)


def customers_problem(customers: object) -> str | None:
    """Why ``customers`` cannot be the demo's number of customers, or None when it can."""
    if isinstance(customers, bool) or not isinstance(customers, int) or not (
        MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS
    ):
        return (f"--customers must be between {MIN_CUSTOMERS} and {MAX_CUSTOMERS:,} (got {customers!r}): the "
                "demo trains, forgets and retrains a model on them")
    return None
