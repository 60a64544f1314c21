"""Free -> premium conversion, 2024 signup cohort.

Features per user from the stream log: volume, how much they skip, genre mix.
"""
import csv
from collections import Counter, defaultdict
from datetime import datetime

import numpy as np
from sklearn.linear_model import LogisticRegression

BASE = "data"
SKIP_SECONDS = 30


def load_users(path):
    users = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for user_id, signup_date, country, converted in reader:
            signup = datetime.strptime(signup_date, "%Y-%m-%d")
            if signup.year != 2024:
                continue
            users[user_id] = {"signup": signup, "country": country, "converted": int(converted)}
    return users


def load_tracks(path):
    tracks = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for track_id, title, genres, length_s in reader:
            tracks[track_id] = [g.strip().lower() for g in genres.split("|")]
    return tracks


def load_streams(path, users, tracks):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [r for r in reader if len(r) == 4]
    seen = set()
    streams = []
    for stream_id, user_id, track_id, seconds in rows:
        if stream_id in seen:      # retried uploads
            continue
        seen.add(stream_id)
        if seconds == "":
            continue
        if user_id not in users or track_id not in tracks:
            continue
        streams.append((user_id, track_id, int(seconds)))
    return streams


def build_features(users, tracks, streams):
    played = defaultdict(list)
    genre_counts = defaultdict(Counter)
    for user_id, track_id, seconds in streams:
        played[user_id].append(seconds)
        for g in tracks[track_id]:
            genre_counts[user_id][g] += 1

    genres = sorted(set(g for c in genre_counts.values() for g in c))
    countries = sorted(set(users[u]["country"] for u in played))
    ref = datetime(2024, 12, 31)

    user_ids = [u for u in users if u in played]
    rows = []
    for u in user_ids:
        secs = played[u]
        n = len(secs)
        skips = len([s for s in secs if s < SKIP_SECONDS])
        total_tags = sum(genre_counts[u].values())
        row = [n, sum(secs) / n, skips / n, (ref - users[u]["signup"]).days]
        row += [genre_counts[u][g] / total_tags for g in genres]
        row += [1.0 if users[u]["country"] == c else 0.0 for c in countries]
        rows.append(row)
    M = np.array(rows, dtype=float)
    num = M[:, :4]
    num = (num - num.mean(axis=0)) / num.std(axis=0)
    X = np.hstack([num, M[:, 4:]])
    y = np.array([users[u]["converted"] for u in user_ids])
    return X, y


def main():
    users = load_users("{}/users.csv".format(BASE))
    tracks = load_tracks("{}/tracks.csv".format(BASE))
    streams = load_streams("{}/streams.csv".format(BASE), users, tracks)
    print(len(users), "users in cohort,", len(tracks), "tracks,", len(streams), "streams")
    X, y = build_features(users, tracks, streams)
    print("X:", X.shape, "converted:", y.sum())
    model = LogisticRegression(max_iter=1000)
    model.fit(X, y)
    print("accuracy (train):", round(model.score(X, y), 3))


if __name__ == "__main__":
    main()
