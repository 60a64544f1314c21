# %% [markdown]
# # Predicting early (<30 days) hospital readmission of diabetic patients
# Data: UCI Diabetes 130-US hospitals (1999-2008). Sklearn pipeline + logistic regression.

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from sklearn.model_selection import train_test_split
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score, classification_report

import warnings
warnings.filterwarnings("ignore")
pd.set_option("display.max_columns", 50)

# %%
df = pd.read_csv("data/diabetic_data.csv", na_values="?")
adm = pd.read_csv("data/admission_type_mapping.csv")
print(df.shape)
df.head()

# %%
(df.isnull().sum() / len(df) * 100).sort_values(ascending=False).head(8)

# %%
# weight is 97% missing, payer code is not relevant
df.drop(["weight", "payer_code"], axis=1, inplace=True)
df["medical_specialty"] = df["medical_specialty"].fillna("Missing")

# %%
df["gender"].value_counts()

# %%
df = df[df["gender"] != "Unknown/Invalid"]
# 11 = expired, 19/20/21 = hospice -> can't be readmitted
df = df[~df["discharge_disposition_id"].isin([11, 13, 14, 19, 20, 21])]
df.shape

# %% [markdown]
# Several encounters for the same patient: keep the first one so that the observations are independent

# %%
print(df["patient_nbr"].nunique(), "patients for", len(df), "encounters")
df = df.sort_values("encounter_id").drop_duplicates(subset="patient_nbr", keep="first")

# %%
df["readmitted"].value_counts()

# %%
df["readmitted"].value_counts().plot(kind="bar")
plt.show()

# %%
df["target"] = (df["readmitted"] == "<30").astype(int)
df["target"].mean()

# %%
age_map = {"[0-10)": 5, "[10-20)": 15, "[20-30)": 25, "[30-40)": 35, "[40-50)": 45, "[50-60)": 55,
           "[60-70)": 65, "[70-80)": 75, "[80-90)": 85, "[90-100)": 95}
df["age"] = df["age"].map(age_map)

# %%
df = df.merge(adm, on="admission_type_id", how="left")
df.rename(columns={"description": "admission_type"}, inplace=True)
df["admission_type"] = df["admission_type"].fillna("Not Mapped")
df["admission_type"] = df["admission_type"].replace({"NULL": "Not Available", "Not Mapped": "Not Available"})
df["admission_type"].value_counts()

# %%
df["service_utilization"] = df["number_outpatient"] + df["number_emergency"] + df["number_inpatient"]
df["diag_1_group"] = np.where(df["diag_1"].astype(str).str.startswith("250"), "diabetes",
                     np.where(df["diag_1"].astype(str).isin(["428", "414", "398"]), "circulatory", "other"))

# %%
df[["time_in_hospital", "num_lab_procedures", "num_medications", "service_utilization", "target"]].corr()

# %%
numeric_features = ["age", "time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications",
                    "number_outpatient", "number_emergency", "number_inpatient", "number_diagnoses",
                    "service_utilization"]
categorical_features = ["race", "gender", "admission_type", "medical_specialty", "diag_1_group", "A1Cresult",
                        "insulin", "change", "diabetesMed"]

X = df[numeric_features + categorical_features]
y = df["target"]

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

# %%
preprocess = ColumnTransformer([
    ("num", Pipeline([("imputer", SimpleImputer(strategy="median")), ("scaler", StandardScaler())]),
     numeric_features),
    ("cat", Pipeline([("imputer", SimpleImputer(strategy="constant", fill_value="missing")),
                      ("onehot", OneHotEncoder(handle_unknown="ignore"))]), categorical_features),
])

model = Pipeline([
    ("preprocess", preprocess),
    ("clf", LogisticRegression(max_iter=1000, class_weight="balanced")),
])
model.fit(X_train, y_train)

# %%
y_pred = model.predict(X_test)
print("accuracy", accuracy_score(y_test, y_pred))
print(classification_report(y_test, y_pred))
