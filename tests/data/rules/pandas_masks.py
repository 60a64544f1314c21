import os

import numpy as np
import pandas as pd

os.makedirs("out", exist_ok=True)

items = pd.read_csv("data/items.csv")
shops = pd.read_csv("data/shops.csv")
items["category"] = items["category"].str.strip().str.lower()
items["price_eur"] = items["price"] / 100
items = items[(items["stock"] > 0) & (items["category"].isin(["food", "toys", "books"]))]
df = items.merge(shops, on="shop_id", how="left")
df["label_len"] = df["label"].apply(len)
df = df[["item_id", "category", "price_eur", "stock", "city", "label_len"]]
df.to_csv("out/prepared.csv", index=False)

price = df["price_eur"].values
stock = df["stock"].to_numpy().astype(float)
X = np.column_stack([(price - price.min()) / (price.max() - price.min()), stock, df["label_len"].values])
y = np.where(df["stock"] > 20, 1, 0)
np.save("out/X.npy", X)
np.save("out/y.npy", y)
