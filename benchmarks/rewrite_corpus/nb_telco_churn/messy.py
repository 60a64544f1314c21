#!/usr/bin/env python
# coding: utf-8

# # Telco Customer Churn: EDA + baseline models

# In[1]:


import pandas as pd
import numpy as np
import matplotlib.pyplot as plt
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, classification_report
import warnings
warnings.filterwarnings("ignore")


# In[2]:


df = pd.read_csv("data/WA_Fn-UseC_-Telco-Customer-Churn.csv")
df.head()


# In[3]:


df.shape


# In[4]:


df.dtypes


# In[5]:


df.duplicated().sum()


# In[6]:


df.drop_duplicates(inplace=True)
df.shape


# TotalCharges is an object column! Some values are blank strings.

# In[7]:


df['TotalCharges'] = pd.to_numeric(df['TotalCharges'], errors='coerce')
df.isnull().sum()


# In[8]:


df[df['TotalCharges'].isnull()][['tenure', 'MonthlyCharges', 'TotalCharges']]


# In[9]:


# new customers (tenure 0), only a handful -> drop
df.dropna(inplace=True)
df.drop('customerID', axis=1, inplace=True)


# In[10]:


df['Churn'].value_counts(normalize=True)


# In[11]:


df['Churn'].value_counts().plot(kind='bar')
plt.show()


# In[12]:


print(df.groupby('Contract')['Churn'].value_counts(normalize=True))


# In[13]:


cols = ['OnlineSecurity', 'OnlineBackup', 'TechSupport', 'StreamingTV']
for col in cols:
    df[col] = df[col].replace({'No internet service': 'No'})
df['MultipleLines'] = df['MultipleLines'].replace('No phone service', 'No')


# In[14]:


df['Churn'] = df['Churn'].map({'Yes': 1, 'No': 0})


# In[15]:


le = LabelEncoder()
cat_cols = df.select_dtypes(include='object').columns
for col in cat_cols:
    df[col] = le.fit_transform(df[col])
df.head()


# In[16]:


df.corr()['Churn'].sort_values(ascending=False)


# In[17]:


X = df.drop('Churn', axis=1)
y = df['Churn']

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

num_cols = ['tenure', 'MonthlyCharges', 'TotalCharges']
scaler = StandardScaler()
X_train[num_cols] = scaler.fit_transform(X_train[num_cols])
X_test[num_cols] = scaler.transform(X_test[num_cols])


# In[18]:


models = {
    'Logistic Regression': LogisticRegression(max_iter=1000),
    'Decision Tree': DecisionTreeClassifier(max_depth=5, random_state=42),
    'Random Forest': RandomForestClassifier(n_estimators=50, random_state=0),
}

for name, model in models.items():
    model.fit(X_train, y_train)
    y_pred = model.predict(X_test)
    print(name, 'accuracy: {:.3f}'.format(accuracy_score(y_test, y_pred)))


# In[19]:


print(classification_report(y_test, y_pred))
