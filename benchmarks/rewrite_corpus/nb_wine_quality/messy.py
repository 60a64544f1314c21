#!/usr/bin/env python
# coding: utf-8

# # Wine Quality: red + white, good (>= 6) vs not

# In[1]:


import os
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score


# In[2]:


red = pd.read_csv('data/winequality-red.csv', sep=';')
white = pd.read_csv('data/winequality-white.csv', sep=';')
print(red.shape, white.shape)


# In[3]:


red['type'] = 'red'
white['type'] = 'white'
wine = pd.concat([red, white], ignore_index=True)
wine.columns = wine.columns.str.replace(' ', '_')
wine.head()


# In[4]:


wine.info()


# In[5]:


wine.isnull().sum()


# In[6]:


for col in ['fixed_acidity', 'volatile_acidity', 'citric_acid', 'residual_sugar', 'chlorides', 'pH', 'sulphates']:
    wine[col] = wine[col].fillna(wine[col].mean())


# In[7]:


print('duplicates:', wine.duplicated().sum())
wine = wine.drop_duplicates().reset_index(drop=True)


# In[8]:


wine.describe()


# In[9]:


wine['quality'].value_counts().sort_index()


# In[10]:


wine['quality'].hist()
plt.xlabel('quality')
plt.show()


# In[11]:


wine['quality_label'] = pd.cut(wine['quality'], bins=[0, 5, 6, 10], labels=['low', 'medium', 'high'])
wine.groupby('quality_label')[['alcohol', 'volatile_acidity', 'sulphates']].mean()


# In[12]:


wine.corr(numeric_only=True)['quality'].sort_values(ascending=False)


# In[13]:


wine['good'] = (wine['quality'] >= 6).astype(int)
wine['type'] = wine['type'].map({'red': 0, 'white': 1})
wine['good'].value_counts()


# In[14]:


X = wine.drop(['quality', 'quality_label', 'good'], axis=1)
y = wine['good']

scaler = StandardScaler()
X_scaled = scaler.fit_transform(X)

os.makedirs('out', exist_ok=True)
np.save('out/X.npy', X_scaled)
np.save('out/y.npy', y.values)


# In[15]:


X_train, X_test, y_train, y_test = train_test_split(X_scaled, y, test_size=0.2, random_state=42)

models = {
    'LogReg': LogisticRegression(max_iter=1000),
    'Tree': DecisionTreeClassifier(max_depth=6, random_state=42),
    'RandomForest': RandomForestClassifier(n_estimators=50, random_state=0),
}
scores = {}
for name, m in models.items():
    m.fit(X_train, y_train)
    pred = m.predict(X_test)
    scores[name] = accuracy_score(y_test, pred)
    print(f'{name:12s} acc={scores[name]:.3f} f1={f1_score(y_test, pred):.3f}')


# In[16]:


best = max(scores, key=scores.get)
print('best model:', best)
