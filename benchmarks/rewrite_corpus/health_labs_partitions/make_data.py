"""Lab results from three hospital sites, the patient index and the test reference ranges.

Usage: python make_data.py DIR ROWS (ROWS lab results over all sites)
"""
import os
import random
import sys

TESTS = [("GLU", "glucose", 70, 110), ("HB", "haemoglobin", 12, 17), ("K", "potassium", 3.5, 5.1),
         ("CRP", "c-reactive protein", 0, 5), ("TSH", "thyrotropin", 0.4, 4.0)]


def main(folder, rows):
    rng = random.Random(1111)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tests.csv"), "w") as f:
        f.write("test_code,test_name,low,high\n")
        for t in TESTS:
            f.write(",".join(str(x) for x in t) + "\n")
    n_patients = max(10, rows // 6)
    with open(os.path.join(folder, "patients.csv"), "w") as f:
        f.write("mrn,sex,birth_year,ward\n")
        for p in range(n_patients):
            f.write(f"{700000 + p},{rng.choice('FM')},{rng.randint(1930, 2010)},{rng.choice(['ICU', 'general', 'cardio'])}\n")
    sizes = {"a": rows // 2, "b": rows // 3}
    sizes["c"] = rows - sizes["a"] - sizes["b"]
    for site, n in sizes.items():
        with open(os.path.join(folder, f"labs_site_{site}.csv"), "w") as f:
            f.write("sample_id,mrn,test_code,value,taken_on\n")
            for i in range(n):
                code, name, low, high = rng.choice(TESTS)
                span = high - low
                value = round(rng.uniform(low - 0.4 * span, high + 0.6 * span), 2)
                value_s = "" if rng.random() < 0.04 else str(value)
                mrn = 700000 + rng.randint(0, int(n_patients * 1.1))  # outpatients from other systems
                code_s = code.lower() if rng.random() < 0.1 else code
                f.write(f"{site.upper()}{i:06d},{mrn},{code_s},{value_s},"
                        f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2023\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
