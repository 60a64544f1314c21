# %% [markdown]
# # Default of credit card clients + bureau data
# Sklearn pipeline (imputer + one-hot + scaler) and gradient boosting.

# %%
import numpy as np
import pandas as pd
import warnings
warnings.filterwarnings('ignore')

from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.model_selection import train_test_split
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import classification_report, roc_auc_score

# %%
df = pd.read_csv('data/credit_card_clients.csv')
bureau = pd.read_csv('data/bureau.csv')
print(df.shape, bureau.shape)
df.head()

# %%
df.rename(columns={'default.payment.next.month': 'default', 'PAY_0': 'PAY_1'}, inplace=True)
df['default'].value_counts()

# %%
df.describe().T

# %%
# EDUCATION: 1=graduate school, 2=university, 3=high school, 4=others, 0/5/6 undocumented -> others
df['EDUCATION'] = df['EDUCATION'].replace({0: 4, 5: 4, 6: 4})
df['MARRIAGE'] = df['MARRIAGE'].replace({0: 3})
df['EDUCATION'].value_counts()

# %%
df['SEX'] = df['SEX'].map({1: 'male', 2: 'female'})
df['EDUCATION'] = df['EDUCATION'].map({1: 'graduate', 2: 'university', 3: 'high_school', 4: 'other'})
df['MARRIAGE'] = df['MARRIAGE'].map({1: 'married', 2: 'single', 3: 'other'})

# %% [markdown]
# ## Bureau features

# %%
bureau['credit_active'] = bureau['credit_active'].str.lower()
bureau['credit_active'].value_counts()

# %%
bureau['is_active'] = (bureau['credit_active'] == 'active').astype(int)
bureau_agg = bureau.groupby('ID').agg(
    bureau_count=('credit_type', 'count'),
    bureau_active=('is_active', 'sum'),
    bureau_debt=('amt_credit_sum', 'sum'),
    bureau_max_overdue=('credit_day_overdue', 'max'),
).reset_index()
bureau_agg.head()

# %%
df = df.merge(bureau_agg, on='ID', how='left')
for c in ['bureau_count', 'bureau_active', 'bureau_debt', 'bureau_max_overdue']:
    df[c] = df[c].fillna(0)
df.isnull().sum()

# %%
df['utilization'] = df['BILL_AMT1'] / df['LIMIT_BAL']
df['pay_ratio'] = df['PAY_AMT1'] / (df['BILL_AMT1'] + 1)
df.groupby('PAY_1')['default'].mean()

# %%
target = 'default'
num_features = ['LIMIT_BAL', 'AGE', 'PAY_1', 'PAY_2', 'PAY_3', 'BILL_AMT1', 'BILL_AMT2', 'PAY_AMT1', 'PAY_AMT2',
                'bureau_count', 'bureau_active', 'bureau_debt', 'bureau_max_overdue', 'utilization', 'pay_ratio']
cat_features = ['SEX', 'EDUCATION', 'MARRIAGE']

X = df[num_features + cat_features]
y = df[target]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)

# %%
numeric_transformer = Pipeline(steps=[
    ('imputer', SimpleImputer(strategy='median')),
    ('scaler', StandardScaler())])

categorical_transformer = Pipeline(steps=[
    ('imputer', SimpleImputer(strategy='most_frequent')),
    ('onehot', OneHotEncoder(handle_unknown='ignore'))])

preprocessor = ColumnTransformer(
    transformers=[
        ('num', numeric_transformer, num_features),
        ('cat', categorical_transformer, cat_features)])

clf = Pipeline(steps=[('preprocessor', preprocessor),
                      ('classifier', GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0))])

# %%
clf.fit(X_train, y_train)
y_pred = clf.predict(X_test)
print(classification_report(y_test, y_pred))
print('ROC AUC: %.3f' % roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1]))
