#!/usr/bin/env python
# coding: utf-8

# # Titanic - Machine Learning from Disaster
# 
# My first Kaggle kernel: some EDA, a bit of feature engineering (title, family size)
# and a random forest. Feedback welcome!

# In[1]:


import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

import warnings
warnings.filterwarnings('ignore')

from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, confusion_matrix


# In[2]:


train = pd.read_csv('data/train.csv')
train.head()


# In[3]:


train.shape


# In[4]:


train.info()


# In[5]:


train.isnull().sum()


# In[6]:


train.describe()


# In[7]:


train.Sex.value_counts()


# Sex has some weird values ("Male ") -> clean it

# In[8]:


train['Sex'] = train['Sex'].str.strip().str.lower()
train.Sex.value_counts()


# In[9]:


train[['Pclass', 'Survived']].groupby(['Pclass'], as_index=False).mean().sort_values(by='Survived', ascending=False)


# In[10]:


train[['Sex', 'Survived']].groupby(['Sex'], as_index=False).mean()


# In[11]:


train['Age'].hist(bins=30)
plt.title('Age')
plt.show()


# ## Feature engineering

# In[12]:


train['Title'] = train['Name'].str.extract(r' ([A-Za-z]+)\.', expand=False)
pd.crosstab(train['Title'], train['Sex'])


# In[13]:


train['Title'] = train['Title'].replace(['Lady', 'Countess', 'Capt', 'Col', 'Don', 'Dr', 'Major', 'Rev', 'Sir',
                                         'Jonkheer', 'Dona'], 'Rare')
train['Title'] = train['Title'].replace('Mlle', 'Miss')
train['Title'] = train['Title'].replace('Ms', 'Miss')
train['Title'] = train['Title'].replace('Mme', 'Mrs')
train[['Title', 'Survived']].groupby(['Title'], as_index=False).mean()


# In[14]:


train['FamilySize'] = train['SibSp'] + train['Parch'] + 1
train['IsAlone'] = 0
train.loc[train['FamilySize'] == 1, 'IsAlone'] = 1
train[['IsAlone', 'Survived']].groupby(['IsAlone'], as_index=False).mean()


# Age: fill with the median age of people with the same title (a Master is a boy!)

# In[15]:


train['Age'] = train['Age'].fillna(train.groupby('Title')['Age'].transform('median'))
train['Age'] = train['Age'].fillna(train['Age'].median())
train.fillna({'Embarked': train['Embarked'].mode()[0]}, inplace=True)
train.fillna({'Fare': train['Fare'].median()}, inplace=True)


# In[16]:


train['AgeBand'] = pd.cut(train['Age'], 5)
train[['AgeBand', 'Survived']].groupby(['AgeBand'], as_index=False).mean().sort_values(by='AgeBand', ascending=True)


# In[17]:


train['HasCabin'] = train['Cabin'].notnull().astype(int)
train['Sex'] = train['Sex'].map({'male': 0, 'female': 1})


# In[18]:


train.drop(['PassengerId', 'Name', 'Ticket', 'Cabin', 'AgeBand'], axis=1, inplace=True)
train = pd.get_dummies(train, columns=['Embarked', 'Title'], drop_first=True)
train.head()


# In[19]:


train.corr(numeric_only=True)['Survived'].sort_values()


# ## Modelling

# In[20]:


X = train.drop('Survived', axis=1)
y = train['Survived']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
print(X_train.shape, X_test.shape)


# In[21]:


logreg = LogisticRegression(max_iter=1000)
logreg.fit(X_train, y_train)
y_pred = logreg.predict(X_test)
print('Logistic regression accuracy:', accuracy_score(y_test, y_pred))


# In[22]:


rf = RandomForestClassifier(n_estimators=50, random_state=0)
rf.fit(X_train, y_train)
y_pred = rf.predict(X_test)
print('Random forest accuracy:', accuracy_score(y_test, y_pred))
print(confusion_matrix(y_test, y_pred))


# In[23]:


pd.Series(rf.feature_importances_, index=X.columns).sort_values(ascending=False).head(10)
