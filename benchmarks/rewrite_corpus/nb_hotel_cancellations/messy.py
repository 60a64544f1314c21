#!/usr/bin/env python
# coding: utf-8

# # Hotel booking demand - predicting cancellations

# In[1]:


import os
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier
from sklearn.metrics import accuracy_score, classification_report

pd.set_option('display.max_columns', 40)


# In[2]:


df = pd.read_csv('data/hotel_bookings.csv')
df.head()


# In[3]:


df.info()


# In[4]:


df.isnull().sum().sort_values(ascending=False)[:6]


# In[5]:


# company is almost always empty; no agent / no children -> 0
df.drop('company', axis=1, inplace=True)
df.fillna({'children': 0, 'agent': 0, 'country': 'Unknown'}, inplace=True)
df['children'] = df['children'].astype(int)
df['agent'] = df['agent'].astype(int)


# In[6]:


# bookings without any guest
no_guest = (df['adults'] + df['children'] + df['babies']) == 0
print('bookings without guests:', no_guest.sum())
df = df[~no_guest]


# In[7]:


df['adr'].describe()


# In[8]:


df.loc[df['adr'] > 1000, 'adr'] = df['adr'].median()
df.loc[df['adr'] < 0, 'adr'] = 0


# In[9]:


df['meal'] = df['meal'].replace('Undefined', 'SC')
df['meal'].value_counts()


# In[10]:


df['is_canceled'].value_counts(normalize=True)


# In[11]:


df.groupby('hotel')['is_canceled'].mean().plot(kind='bar')
plt.ylabel('cancellation rate')
plt.show()


# In[12]:


month_map = {'January': 1, 'February': 2, 'March': 3, 'April': 4, 'May': 5, 'June': 6, 'July': 7,
             'August': 8, 'September': 9, 'October': 10, 'November': 11, 'December': 12}
df['arrival_month'] = df['arrival_date_month'].map(month_map)
df['arrival_date'] = pd.to_datetime(dict(year=df['arrival_date_year'], month=df['arrival_month'],
                                         day=df['arrival_date_day_of_month']))
df['arrival_weekday'] = df['arrival_date'].dt.dayofweek


# In[13]:


df['total_nights'] = df['stays_in_weekend_nights'] + df['stays_in_week_nights']
df['total_guests'] = df['adults'] + df['children'] + df['babies']
df['has_agent'] = (df['agent'] != 0).astype(int)


# In[14]:


print(df.duplicated().sum(), 'duplicated bookings')
df = df.drop_duplicates()


# In[15]:


# reservation_status leaks the target!
df = df.drop(['reservation_status', 'reservation_status_date', 'arrival_date_month', 'arrival_date', 'agent'], axis=1)


# In[16]:


top_countries = df['country'].value_counts().index[:10]
df.loc[~df['country'].isin(top_countries), 'country'] = 'Other'
df['country'].value_counts()


# In[17]:


df['hotel'] = df['hotel'].map({'Resort Hotel': 0, 'City Hotel': 1})
df = pd.get_dummies(df, columns=['meal', 'country', 'market_segment', 'distribution_channel',
                                 'reserved_room_type', 'deposit_type'])
df.shape


# In[18]:


os.makedirs('out', exist_ok=True)
df.to_csv('out/prepared.csv', index=False)


# In[19]:


X = df.drop('is_canceled', axis=1)
y = df['is_canceled']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42)

dt = DecisionTreeClassifier(max_depth=8, random_state=42)
dt.fit(X_train, y_train)
y_pred = dt.predict(X_test)
print('accuracy:', accuracy_score(y_test, y_pred))
print(classification_report(y_test, y_pred))
