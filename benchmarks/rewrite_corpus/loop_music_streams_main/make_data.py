"""Music app: users of the free tier, the track catalogue with genres, and the stream log.

Usage: python make_data.py DIR ROWS (ROWS stream events)
"""
import csv
import os
import random
import sys
from datetime import date, timedelta

GENRES = ["pop", "rock", "hiphop", "jazz", "classical", "dance", "indie", "metal"]


def main(folder, rows):
    rng = random.Random(1999)
    os.makedirs(folder, exist_ok=True)
    n_users = max(12, rows // 10)
    n_tracks = max(15, rows // 8)
    taste = {u: rng.sample(GENRES, 2) for u in range(n_users)}
    track_genres = {}
    with open(os.path.join(folder, "tracks.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["track_id", "title", "genres", "length_s"])
        for t in range(n_tracks):
            gs = rng.sample(GENRES, rng.randint(1, 3))
            track_genres[t] = gs
            shown = [g.upper() if rng.random() < 0.1 else g for g in gs]
            w.writerow([f"tr{t:05d}", f"Song {t}", " | ".join(shown) if rng.random() < 0.2 else "|".join(shown),
                        rng.randint(120, 420)])
    engaged = {}
    with open(os.path.join(folder, "users.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "signup_date", "country", "converted"])
        for u in range(n_users):
            year = 2024 if rng.random() < 0.8 else 2023
            signup = date(year, 1, 1) + timedelta(days=rng.randint(0, 330))
            engaged[u] = rng.random()
            converted = int(rng.random() < 0.15 + 0.6 * engaged[u])
            w.writerow([f"u{u:04d}", signup.isoformat(), rng.choice(["NL", "SE", "DE", "PL"]), converted])
    with open(os.path.join(folder, "streams.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["stream_id", "user_id", "track_id", "seconds_played"])
        sid = 0
        written = 0
        while written < rows:
            sid += 1
            u = rng.randint(0, n_users - 1)
            liked = [t for t in track_genres if set(track_genres[t]) & set(taste[u])]
            t = rng.choice(liked) if liked and rng.random() < 0.7 else rng.randint(0, n_tracks + 2)
            full = rng.random() < 0.3 + 0.6 * engaged[u]
            secs = rng.randint(120, 400) if full else rng.randint(1, 40)
            s = str(secs)
            if rng.random() < 0.04:
                s = ""
            row = [f"st{sid:07d}", f"u{u:04d}", f"tr{t:05d}", s]
            if rng.random() < 0.03:
                row = row[:2]                       # app crashed mid-write
            w.writerow(row)
            written += 1
            if rng.random() < 0.07 and written < rows:
                w.writerow(row)                     # the client retried the upload
                written += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
