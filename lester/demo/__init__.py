"""``lester demo``: the compliance story, offline.

:mod:`lester.demo.data` writes the synthetic customers and mails and holds the messy script;
:mod:`lester.demo.story` runs the demo (``lester demo`` on the command line).
"""

from lester.demo.data import messy_script, write_demo_data
from lester.demo.story import run_demo

__all__ = ["messy_script", "run_demo", "write_demo_data"]
