# %% [markdown]
# # House Prices - regularized linear models
# Log-transform the target, fill the missing values, one-hot the categoricals, Ridge.

# %%
import os
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_squared_error

pd.set_option('display.max_columns', 100)
pd.set_option('display.float_format', lambda x: '%.3f' % x)

# %%
df = pd.read_csv('data/train.csv')
print(df.shape)
df.head()

# %%
df['SalePrice'].describe()

# %%
print("Skewness: %f" % df['SalePrice'].skew())
print("Kurtosis: %f" % df['SalePrice'].kurt())

# %%
plt.scatter(df['GrLivArea'], df['SalePrice'])
plt.xlabel('GrLivArea')
plt.ylabel('SalePrice')
plt.show()

# %% [markdown]
# Two houses with a huge living area and a low price -> outliers, the docs say to remove them

# %%
df = df.drop(df[(df['GrLivArea'] > 4000) & (df['SalePrice'] < 300000)].index)
df.shape

# %%
total = df.isnull().sum().sort_values(ascending=False)
percent = (df.isnull().sum() / df.isnull().count()).sort_values(ascending=False)
missing_data = pd.concat([total, percent], axis=1, keys=['Total', 'Percent'])
missing_data.head(10)

# %%
# NA means "no pool", "no fence" etc. but too few houses have them
df.drop(['PoolQC', 'MiscFeature', 'Fence'], axis=1, inplace=True)
df.drop('Id', axis=1, inplace=True)

# %%
# LotFrontage: median of the neighborhood
df['LotFrontage'] = df.groupby('Neighborhood')['LotFrontage'].transform(lambda x: x.fillna(x.median()))

for col in ['MasVnrArea', 'TotalBsmtSF', 'GarageArea', 'GarageCars', 'LotFrontage']:
    df[col] = df[col].fillna(df[col].median())

for col in ['GarageType', 'KitchenQual']:
    df[col] = df[col].fillna('None')

df.isnull().sum().max()

# %%
df['KitchenQual'] = df['KitchenQual'].map({'Ex': 5, 'Gd': 4, 'TA': 3, 'Fa': 2, 'Po': 1, 'None': 0})
df['MSSubClass'] = df['MSSubClass'].astype(str)

# %%
df['TotalSF'] = df['TotalBsmtSF'] + df['1stFlrSF'] + df['2ndFlrSF']
df['HouseAge'] = df['YrSold'] - df['YearBuilt']
df['RemodAge'] = df['YrSold'] - df['YearRemodAdd']
df.loc[df['RemodAge'] < 0, 'RemodAge'] = 0
df['TotalBath'] = df['FullBath'] + 0.5 * df['HalfBath']
df.drop(['Street'], axis=1, inplace=True)   # almost all Pave

# %%
df.corr(numeric_only=True)['SalePrice'].sort_values(ascending=False).head(10)

# %%
df['SalePrice'] = np.log1p(df['SalePrice'])
df['SalePrice'].hist(bins=40)
plt.show()

# %%
cat_cols = ['MSSubClass', 'MSZoning', 'Neighborhood', 'GarageType']
dummies = pd.get_dummies(df[cat_cols], drop_first=True).astype(int)
df = pd.concat([df.drop(cat_cols, axis=1), dummies], axis=1)
df.shape

# %%
os.makedirs('out', exist_ok=True)
df.to_csv('out/prepared.csv', index=False)

# %%
X = df.drop('SalePrice', axis=1)
y = df['SalePrice']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# %%
models = {'linear': LinearRegression(), 'ridge': Ridge(alpha=10)}
for name, model in models.items():
    model.fit(X_train, y_train)
    pred = model.predict(X_test)
    rmse = np.sqrt(mean_squared_error(y_test, pred))
    print(name, 'RMSE (log):', round(rmse, 4))
