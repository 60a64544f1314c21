"""Healthcare example pipeline: patients with a high number of complications, for the counties of interest.

Ported from the notebook version (the keras model is replaced with sklearn's MLP, the word2vec
featurisation of last_name with a hashing vectorizer since gensim is not on the cluster).
"""
import os
import warnings

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.simplefilter("ignore")

COUNTIES_OF_INTEREST = ['county2', 'county3']
DATA_DIR = "data"

patients = pd.read_csv(os.path.join(DATA_DIR, "patients.csv"), na_values='?')
histories = pd.read_csv(os.path.join(DATA_DIR, "histories.csv"), na_values='?')
# registry export: county has random case / padding
patients['county'] = patients['county'].str.strip().str.lower()

data = patients.merge(histories, on=['ssn'])
complications = data.groupby('age_group').agg(mean_complications=('complications', 'mean'))
data = data.merge(complications, on=['age_group'])
data['label'] = data['complications'] > 1.2 * data['mean_complications']
data = data[['smoker', 'last_name', 'county', 'num_children', 'race', 'income', 'label']]
data = data[data['county'].isin(COUNTIES_OF_INTEREST)]
print(data.shape)

impute_and_one_hot_encode = Pipeline([
    ('impute', SimpleImputer(strategy='most_frequent')),
    ('encode', OneHotEncoder(sparse_output=False, handle_unknown='ignore'))
])
featurisation = ColumnTransformer(transformers=[
    ("impute_and_one_hot_encode", impute_and_one_hot_encode, ['smoker', 'county', 'race']),
    ('last_name', HashingVectorizer(n_features=16, analyzer='char_wb', ngram_range=(2, 3)), 'last_name'),
    ('numeric', Pipeline([('impute', SimpleImputer(strategy='mean')), ('scale', StandardScaler())]),
     ['num_children', 'income']),
], remainder='drop')
neural_net = MLPClassifier(hidden_layer_sizes=(9, 9), max_iter=300, random_state=42)
pipeline = Pipeline([
    ('features', featurisation),
    ('learner', neural_net)])

train_data, test_data = train_test_split(data, random_state=42)
model = pipeline.fit(train_data, train_data['label'])
print("Mean accuracy: {}".format(model.score(test_data, test_data['label'])))
