"""Web-shop customers and orders. Usage: python make_data.py DIR ROWS (ROWS orders)"""
import os
import sys

import numpy as np
import pandas as pd


def main(folder, rows):
    rng = np.random.default_rng(8)
    os.makedirs(folder, exist_ok=True)
    n_customers = max(10, rows // 4)
    ids = [f"CU{i:05d}" for i in range(n_customers)]
    pd.DataFrame({
        "customer_id": ids,
        "email": [f"cust{i}@shop.example" for i in range(n_customers)],
        "segment": rng.choice(["consumer", "Consumer", "small business", "corporate"], n_customers),
        "city": rng.choice(["Berlin", "Hamburg", "Munich", "Cologne"], n_customers),
    }).to_csv(os.path.join(folder, "customers.csv"), index=False)
    cust = np.array(ids + ["CU99999"])[rng.integers(0, n_customers + 1, rows)]
    dirty = rng.random(rows) < 0.15
    cust = np.where(dirty, np.char.add(" ", np.char.lower(cust.astype(str))), cust)
    value = rng.gamma(2.0, 35.0, rows).round(2)
    pd.DataFrame({
        "order_id": np.arange(50000, 50000 + rows),
        "customer_id": cust,
        "channel": rng.choice(["web", "app", "phone", "marketplace"], rows, p=[0.5, 0.3, 0.05, 0.15]),
        "order_value": value,
        "status": rng.choice(["shipped", "Shipped ", "cancelled", "pending"], rows, p=[0.6, 0.15, 0.15, 0.1]),
        "returned": (rng.random(rows) < np.where(value > 100, 0.35, 0.12)).astype(int),
    }).to_csv(os.path.join(folder, "orders.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
