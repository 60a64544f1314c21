"""Flight legs and the airport table. Usage: python make_data.py DIR ROWS (ROWS flights)"""
import csv
import os
import random
import sys

AIRPORTS = [("FRA", "Frankfurt", "DE", 1), ("MUC", "Munich", "DE", 1), ("HAM", "Hamburg", "DE", 0),
            ("CDG", "Paris CDG", "FR", 1), ("NCE", "Nice", "FR", 0), ("AMS", "Amsterdam", "NL", 1),
            ("LHR", "London Heathrow", "GB", 1), ("EDI", "Edinburgh", "GB", 0), ("MAD", "Madrid", "ES", 1),
            ("PMI", "Palma", "ES", 0), ("VIE", "Vienna", "AT", 1), ("ZRH", "Zurich", "CH", 1)]


def main(folder, rows):
    rng = random.Random(747)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "airports.csv"), "w") as f:
        f.write("iata,name,country,hub\n")
        for a in AIRPORTS:
            f.write(",".join(str(x) for x in a) + "\n")
    codes = [a[0] for a in AIRPORTS] + ["BER", "OSL"]  # two airports missing from the table
    with open(os.path.join(folder, "flights.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["flight_no", "airline", "origin", "dest", "sched_dep", "distance_km", "delay_min"])
        for i in range(rows):
            o, d = rng.sample(codes, 2)
            delay = "" if rng.random() < 0.05 else str(max(-10, int(rng.expovariate(1 / 18)) - 5))
            w.writerow([f"{rng.choice(['LH', 'AF', 'KL', 'BA', 'IB', 'OS'])}{rng.randint(100, 9999)}",
                        rng.choice(["Lufthansa", "Air France", "KLM", "British Airways", "Iberia", "Austrian"]),
                        o, d, f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(5, 22):02d}:{rng.choice(['00', '15', '30', '45'])}",
                        rng.randint(250, 2200), delay])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
