"""The small mails case (6 customers, 24 mails and the mails pipeline) that the run and the
store tests both start from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

PIPELINE = Path(__file__).parent / "data" / "mails_pipeline.py"


def write_mails_case(folder: Path) -> Path:
    """customers.csv, mails.csv and pipeline.py in ``folder``; returns ``folder``."""
    customers = pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6],
        "customer_email": [f"c{i}@x.org" for i in range(1, 7)],
        "country": ["DE", "FR", "DE", "NL", "FR", "DE"],
        "is_premium": [True, False, True, False, True, False],
    })
    texts = ["thanks great", "broken", "love it thanks", "slow", "great", "meh", "thanks", "no"]
    mails = pd.DataFrame({
        "mail_id": range(100, 124),
        "email": [f"c{1 + i % 6}@x.org" for i in range(24)],
        "mail_date": ["2021-06-01" if i % 5 == 0 else "2022-06-01" for i in range(24)],
        "mail_text": [texts[i % 8] for i in range(24)],
    })
    customers.to_csv(folder / "customers.csv", index=False)
    mails.to_csv(folder / "mails.csv", index=False)
    shutil.copy(PIPELINE, folder / "pipeline.py")
    return folder
