"""COMPAS: can we reproduce the 'High' risk score from the screening record?

Same preprocessing as in the ProPublica analysis (screening within 30 days of the arrest, no
ordinary traffic offences, recidivism flag known), applied to the train and the test extract.
"""
import os

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler, label_binarize

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
train_file = os.path.join(DATA_DIR, "compas_train.csv")
test_file = os.path.join(DATA_DIR, "compas_test.csv")


def prepare(data):
    data = data[['sex', 'dob', 'age', 'c_charge_degree', 'race', 'score_text', 'priors_count',
                 'days_b_screening_arrest', 'decile_score', 'is_recid', 'two_year_recid',
                 'c_jail_in', 'c_jail_out']]
    data = data[(data['days_b_screening_arrest'] <= 30) & (data['days_b_screening_arrest'] >= -30)]
    data = data[data['is_recid'] != -1]
    data = data[data['c_charge_degree'] != "O"]
    data = data[data['score_text'] != 'N/A']
    data = data.copy()
    data['score_text'] = data['score_text'].replace({'Medium': 'Low'})
    data['length_of_stay'] = (pd.to_datetime(data['c_jail_out']) - pd.to_datetime(data['c_jail_in'])).dt.days
    return data


train_data = prepare(pd.read_csv(train_file, na_values='?', index_col=0))
test_data = prepare(pd.read_csv(test_file, na_values='?', index_col=0))
print("train:", train_data.shape, "test:", test_data.shape)
print(train_data['score_text'].value_counts())

train_labels = label_binarize(train_data['score_text'], classes=['High', 'Low'])
test_labels = label_binarize(test_data['score_text'], classes=['High', 'Low'])

impute1_and_onehot = Pipeline([('imputer1', SimpleImputer(strategy='most_frequent')),
                               ('onehot', OneHotEncoder(handle_unknown='ignore'))])
impute2_and_bin = Pipeline([('imputer2', SimpleImputer(strategy='mean')),
                            ('discretizer', KBinsDiscretizer(n_bins=4, encode='ordinal', strategy='uniform'))])
featurizer = ColumnTransformer(transformers=[
    ('impute1_and_onehot', impute1_and_onehot, ['is_recid', 'c_charge_degree', 'race', 'sex']),
    ('impute2_and_bin', impute2_and_bin, ['age']),
    ('numeric', Pipeline([('imputer3', SimpleImputer(strategy='median')), ('scaler', StandardScaler())]),
     ['priors_count', 'length_of_stay']),
])
pipeline = Pipeline([
    ('features', featurizer),
    ('classifier', LogisticRegression(max_iter=500))])

pipeline.fit(train_data, train_labels.ravel())
print("test accuracy:", pipeline.score(test_data, test_labels.ravel()))
