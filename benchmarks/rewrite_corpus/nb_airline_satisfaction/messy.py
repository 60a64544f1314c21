# %% [markdown]
# # Airline Passenger Satisfaction
# ColumnTransformer + RandomForest, ~95% accuracy on the full data

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import warnings
warnings.filterwarnings('ignore')

from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler
from sklearn.impute import SimpleImputer
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.model_selection import train_test_split
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report

# %%
df = pd.read_csv('data/airline_train.csv', index_col=0)
df.head()

# %%
df.shape

# %%
df.isnull().sum()

# %%
df.rename(columns=lambda c: c.strip().lower().replace(' ', '_').replace('/', '_'), inplace=True)
df.drop('id', axis=1, inplace=True)
df.columns

# %%
df['satisfaction'].value_counts().plot(kind='pie', autopct='%1.1f%%')
plt.show()

# %%
df.groupby('class')['satisfaction'].value_counts(normalize=True)

# %%
df.describe()

# %% [markdown]
# A rating of 0 means "not applicable" -> treat it as missing

# %%
rating_cols = ['inflight_wifi_service', 'departure_arrival_time_convenient', 'ease_of_online_booking',
               'gate_location', 'food_and_drink', 'online_boarding', 'seat_comfort', 'inflight_entertainment',
               'on-board_service', 'leg_room_service', 'baggage_handling', 'checkin_service', 'inflight_service',
               'cleanliness']
for c in rating_cols:
    df[c] = df[c].replace(0, np.nan)

# %%
df['total_delay'] = df['departure_delay_in_minutes'] + df['arrival_delay_in_minutes'].fillna(0)
df['customer_type'] = df['customer_type'].str.lower()

# %%
le = LabelEncoder()
df['satisfaction'] = le.fit_transform(df['satisfaction'])
print(le.classes_)

# %%
df.corr(numeric_only=True)['satisfaction'].sort_values()

# %%
cat_cols = ['gender', 'customer_type', 'type_of_travel', 'class']
num_cols = ['age', 'flight_distance', 'departure_delay_in_minutes', 'arrival_delay_in_minutes', 'total_delay'] \
    + rating_cols

X = df.drop('satisfaction', axis=1)
y = df['satisfaction']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# %%
num_pipe = Pipeline([('impute', SimpleImputer(strategy='median')), ('scale', StandardScaler())])
cat_pipe = Pipeline([('impute', SimpleImputer(strategy='most_frequent')),
                     ('ohe', OneHotEncoder(handle_unknown='ignore'))])
pre = ColumnTransformer([('num', num_pipe, num_cols), ('cat', cat_pipe, cat_cols)])

# logreg = Pipeline([('pre', pre), ('model', LogisticRegression(max_iter=1000))])
rf = Pipeline([('pre', pre), ('model', RandomForestClassifier(n_estimators=50, random_state=0))])
rf.fit(X_train, y_train)

# %%
y_pred = rf.predict(X_test)
print('Accuracy:', accuracy_score(y_test, y_pred))
print(classification_report(y_test, y_pred, target_names=le.classes_))
