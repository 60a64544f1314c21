import csv
import os
import numpy as np

minutes = []
visits = []
labels = []
first = True
with open('data/checkins.csv') as fp:
    reader = csv.reader(fp)
    for n, r in enumerate(reader):
        if first:
            first = False
            continue
        if r[4].strip().lower() == 'cancelled':
            continue
        if r[4].strip().lower() == 'no-show':
            continue
        if r[3] == '' or int(r[3]) <= 0:
            print('row', n, 'has no duration, skipped')
            continue
        minutes.append(float(r[3]))
        visits.append(float(r[5]))
        if r[6].strip().upper() == 'Y':
            labels.append(1)
        else:
            labels.append(0)

minutes = np.array(minutes)
visits = np.array(visits)
# scale to 0..1
minutes_s = (minutes - minutes.min()) / (minutes.max() - minutes.min())
visits_s = (visits - visits.min()) / (visits.max() - visits.min())

X = np.column_stack((minutes_s, visits_s))
y = np.array(labels)
print(X.shape, y.mean())

os.makedirs('out', exist_ok=True)
np.save('out/X.npy', X)
np.save('out/y.npy', y)
