#!/usr/bin/env python
# coding: utf-8

# # Loan Prediction - Analytics Vidhya hackathon

# In[1]:


import pandas as pd
import numpy as np
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn import metrics


# In[2]:


train = pd.read_csv("data/train_u6lujuX_CVtuZ9i.csv")
train.head(10)


# In[3]:


train.describe()


# In[4]:


train['Property_Area'].value_counts()


# In[5]:


train['ApplicantIncome'].hist(bins=50)
plt.show()


# In[6]:


train.boxplot(column='ApplicantIncome', by='Education')
plt.show()


# In[7]:


temp1 = train['Credit_History'].value_counts(ascending=True)
temp2 = train.pivot_table(values='Loan_Status', index=['Credit_History'],
                          aggfunc=lambda x: x.map({'Y': 1, 'N': 0}).mean())
print('Frequency Table for Credit History:')
print(temp1)
print('\nProbility of getting loan for each Credit History class:')
print(temp2)


# In[8]:


train.apply(lambda x: sum(x.isnull()), axis=0)


# In[9]:


# categorical -> most frequent value
for col in ['Gender', 'Married', 'Dependents', 'Self_Employed', 'Credit_History', 'Loan_Amount_Term']:
    train[col] = train[col].fillna(train[col].mode()[0])

train['LoanAmount'] = train['LoanAmount'].fillna(train['LoanAmount'].median())


# In[10]:


train['Dependents'] = train['Dependents'].replace('3+', '3').astype(int)


# Extreme incomes: drop the top 1% of the numeric columns

# In[11]:


num = train.select_dtypes(include=np.number)
q = num.quantile(0.99)
mask = (num['ApplicantIncome'] <= q['ApplicantIncome']) & (num['CoapplicantIncome'] <= q['CoapplicantIncome'])
train = train[mask]
print(train.shape)


# In[12]:


train['TotalIncome'] = train['ApplicantIncome'] + train['CoapplicantIncome']
train['TotalIncome_log'] = np.log(train['TotalIncome'])
train['LoanAmount_log'] = np.log(train['LoanAmount'])
train['EMI'] = train['LoanAmount'] / train['Loan_Amount_Term']
train['LoanAmount_log'].hist(bins=20)
plt.show()


# In[13]:


train['Gender'] = train['Gender'].map({'Male': 1, 'Female': 0})
train['Married'] = train['Married'].map({'Yes': 1, 'No': 0})
train['Self_Employed'] = train['Self_Employed'].map({'Yes': 1, 'No': 0})
train['Loan_Status'] = train['Loan_Status'].map({'Y': 1, 'N': 0})


# In[14]:


dummies = pd.get_dummies(train[['Education', 'Property_Area']], drop_first=True)
train = pd.concat([train.drop(['Education', 'Property_Area'], axis=1), dummies], axis=1)
train.head()


# In[15]:


predictors = ['Credit_History', 'Gender', 'Married', 'Dependents', 'Self_Employed', 'TotalIncome_log',
              'LoanAmount_log', 'EMI', 'Education_Not Graduate', 'Property_Area_Semiurban', 'Property_Area_Urban']
X = train[predictors]
y = train['Loan_Status']
x_train, x_cv, y_train, y_cv = train_test_split(X, y, test_size=0.2, random_state=1)


# In[16]:


model = LogisticRegression(max_iter=1000)
model.fit(x_train, y_train)
pred_cv = model.predict(x_cv)
print('Accuracy : %s' % '{0:.3%}'.format(metrics.accuracy_score(y_cv, pred_cv)))


# In[17]:


# tree = DecisionTreeClassifier(max_depth=3)
# tree.fit(x_train, y_train)
# print(metrics.accuracy_score(y_cv, tree.predict(x_cv)))
