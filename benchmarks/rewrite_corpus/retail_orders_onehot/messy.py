import os

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

os.makedirs("out", exist_ok=True)

customers = pd.read_csv("data/customers.csv")
orders = pd.read_csv("data/orders.csv")

# ids come in from the call centre in lower case with blanks
orders["customer_id"] = orders["customer_id"].str.strip().str.upper()
orders["status"] = orders["status"].str.strip().str.lower()
customers["segment"] = customers["segment"].str.lower()

df = pd.merge(orders, customers, on="customer_id", how="inner")
df = df[df["status"] == "shipped"]
print(len(df), "shipped orders with a known customer")
df = df[["order_id", "customer_id", "segment", "channel", "order_value", "returned"]]
df.to_csv("out/prepared.csv", index=False)
print(df.groupby("channel")["returned"].mean())
# df.groupby("segment").order_value.hist()  # no display on the server

# one-hot of the channel, in order of appearance
channels = []
for c in df["channel"]:
    if c not in channels:
        channels.append(c)
pos = {c: i for i, c in enumerate(channels)}
onehot = np.zeros((len(df), len(channels)))
for i, c in enumerate(df["channel"]):
    onehot[i, pos[c]] = 1

value = df["order_value"].to_numpy()
value_mm = (value - value.min()) / (value.max() - value.min())

X = np.concatenate([onehot, value_mm[:, None]], axis=1)
y = np.where(df["returned"] == 1, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)

tree = DecisionTreeClassifier(max_depth=4, random_state=0)
tree.fit(X, y)
print("depth", tree.get_depth(), "acc", tree.score(X, y))
