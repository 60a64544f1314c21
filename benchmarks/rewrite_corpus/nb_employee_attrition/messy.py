# %% [markdown]
# # IBM HR Analytics - Employee Attrition
# + the latest answer of each employee to the engagement survey

# %%
import pandas as pd
import numpy as np
import matplotlib.pyplot as plt
from sklearn.preprocessing import LabelEncoder
from sklearn.model_selection import train_test_split
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix
import warnings
warnings.filterwarnings('ignore')

# %%
hr = pd.read_csv('data/HR-Employee-Attrition.csv')
survey = pd.read_csv('data/engagement_survey.csv')
hr.shape, survey.shape

# %%
hr.head()

# %%
hr.nunique().sort_values().head(5)

# %%
# constant columns, useless
hr.drop(['EmployeeCount', 'Over18', 'StandardHours'], axis=1, inplace=True)

# %%
hr['Attrition'].value_counts()

# %%
hr.groupby('OverTime')['Attrition'].value_counts(normalize=True).unstack()

# %%
hr['MonthlyIncome'].plot(kind='hist', bins=30)
plt.show()

# %% [markdown]
# Survey: keep only the most recent answer per employee

# %%
survey['survey_date'] = pd.to_datetime(survey['survey_date'])
survey = survey.sort_values('survey_date').drop_duplicates('employee_number', keep='last')
survey['work_life_balance'] = pd.to_numeric(survey['work_life_balance'], errors='coerce')
survey.rename(columns={'employee_number': 'EmployeeNumber'}, inplace=True)
survey.head()

# %%
df = hr.merge(survey[['EmployeeNumber', 'work_life_balance', 'manager_rating']], on='EmployeeNumber')
df['work_life_balance'] = df['work_life_balance'].fillna(df['work_life_balance'].median())
print(len(hr), '->', len(df), 'employees with a survey answer')

# %%
df['BusinessTravel'] = df['BusinessTravel'].str.replace('travel_rarely', 'Travel_Rarely')
df['Attrition'] = df['Attrition'].map({'Yes': 1, 'No': 0})
df['OverTime'] = df['OverTime'].map({'Yes': 1, 'No': 0})

# %%
# income compared to colleagues with the same role
df['RoleMeanIncome'] = df.groupby('JobRole')['MonthlyIncome'].transform('mean')
df['IncomeVsRole'] = df['MonthlyIncome'] / df['RoleMeanIncome']
df['YearsPerCompany'] = df['TotalWorkingYears'] / (df['NumCompaniesWorked'] + 1)

# %%
MEDIAN_INCOME = df['MonthlyIncome'].median()


def flight_risk(row):
    # underpaid, doing overtime and not promoted for a while
    score = 0
    if row['MonthlyIncome'] < MEDIAN_INCOME:
        score += 1
    if row['OverTime'] == 1:
        score += 1
    if row['YearsSinceLastPromotion'] >= 4:
        score += 1
    return score


df['FlightRisk'] = df.apply(flight_risk, axis=1)
df.groupby('FlightRisk')['Attrition'].mean()

# %%
df.drop(['EmployeeNumber', 'RoleMeanIncome'], axis=1, inplace=True)

# %%
categorical = ['BusinessTravel', 'Department', 'EducationField', 'Gender', 'JobRole', 'MaritalStatus']
le = LabelEncoder()
for col in categorical:
    df[col] = le.fit_transform(df[col])

# %%
df.corr()['Attrition'].sort_values(ascending=False).head(8)

# %%
X = df.drop('Attrition', axis=1)
y = df['Attrition']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# %%
rf = RandomForestClassifier(n_estimators=50, random_state=0)
gb = GradientBoostingClassifier(random_state=0)
gb.fit(X_train, y_train)
pred = gb.predict(X_test)
print('Accuracy:', accuracy_score(y_test, pred))
print(confusion_matrix(y_test, pred))
print(classification_report(y_test, pred))
