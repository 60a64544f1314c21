#!/usr/bin/env python
# coding: utf-8

# # Heart Disease Prediction
# EDA and comparison of a few classifiers

# In[1]:


import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC
from sklearn.metrics import accuracy_score, confusion_matrix, classification_report


# In[2]:


df = pd.read_csv("data/heart.csv")
df.head()


# In[3]:


df.info()


# In[4]:


df.describe()


# In[5]:


print("Duplicated rows:", df.duplicated().sum())
df = df.drop_duplicates()
df.shape


# In[6]:


df.target.value_counts()


# In[7]:


countNoDisease = len(df[df.target == 0])
countHaveDisease = len(df[df.target == 1])
print("Percentage of Patients Haven't Heart Disease: {:.2f}%".format((countNoDisease / (len(df.target)) * 100)))
print("Percentage of Patients Have Heart Disease: {:.2f}%".format((countHaveDisease / (len(df.target)) * 100)))


# In[8]:


pd.crosstab(df.age, df.target).plot(kind="bar", figsize=(20, 6))
plt.title('Heart Disease Frequency for Ages')
plt.xlabel('Age')
plt.ylabel('Frequency')
plt.show()


# chol = 0 is not possible, it means missing. Same for ca = 4 and thal = 0 (documented as NaN in the UCI data)

# In[9]:


chol_median = int(df.loc[df.chol > 0, 'chol'].median())
df.loc[df.chol == 0, 'chol'] = chol_median
df.loc[df.ca == 4, 'ca'] = 0
df.loc[df.thal == 0, 'thal'] = 2


# In[10]:


df['age_group'] = pd.cut(df['age'], bins=[0, 40, 50, 60, 100], labels=['<40', '40-50', '50-60', '60+'])
df.groupby('age_group')['target'].mean()


# In[11]:


df.corr(numeric_only=True)['target'].sort_values()


# In[12]:


df = pd.get_dummies(df, columns=['cp', 'thal', 'slope'], dtype=int)
df = df.drop(columns=['age_group'])
df.head()


# In[13]:


y = df.target.values
x_data = df.drop(['target'], axis=1)

scaler = StandardScaler()
x = scaler.fit_transform(x_data)

x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)


# In[14]:


knn = KNeighborsClassifier(n_neighbors=2)
svm = SVC(random_state=1)
lr = LogisticRegression(max_iter=1000)

# knn.fit(x_train, y_train)
# print("{} NN Score: {:.2f}%".format(2, knn.score(x_test, y_test) * 100))

lr.fit(x_train, y_train)
acc = lr.score(x_test, y_test) * 100
print("Test Accuracy {:.2f}%".format(acc))


# In[15]:


y_pred = lr.predict(x_test)
print(confusion_matrix(y_test, y_pred))
print(classification_report(y_test, y_pred))
