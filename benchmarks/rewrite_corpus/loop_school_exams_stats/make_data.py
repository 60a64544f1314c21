"""Exam results per student and subject, and the class register.

Usage: python make_data.py DIR ROWS (ROWS exam results)
"""
import os
import random
import sys

SUBJECTS = ["maths", "physics", "english", "history", "biology"]


def main(folder, rows):
    rng = random.Random(73)
    os.makedirs(folder, exist_ok=True)
    n_classes = max(4, rows // 40)
    classes = [f"{rng.choice(['H', 'V'])}{rng.randint(3, 6)}{chr(97 + c % 26)}{c // 26}" for c in range(n_classes)]
    level = {}
    with open(os.path.join(folder, "classes.csv"), "w") as f:
        f.write("class_code,school,mentor,year_level\n")
        for c in classes:
            level[c] = int(c[1])
            f.write(f"{c},{rng.choice(['Erasmus', 'Spinoza', 'Huygens'])},{rng.choice(['dvr', 'kls', 'mbk', 'pjt'])},"
                    f"{level[c]}\n")
    ability = {}
    with open(os.path.join(folder, "exam_results.csv"), "w") as f:
        # the export has this column order; it changed twice last year
        f.write("student_id,subject,class_code,attempt,max_score,score,final_mark\n")
        for i in range(rows):
            sid = rng.randint(1, max(10, rows // 3))
            ability.setdefault(sid, rng.gauss(0, 1))
            if rng.random() < 0.05:
                cls = "X9z9"                     # class dissolved, not in the register
            else:
                cls = classes[(sid * 7) % n_classes]
                if rng.random() < 0.1:
                    cls = cls.upper()
            subject = rng.choice(SUBJECTS)
            max_score = rng.choice([40, 50, 60, 100])
            pct = min(1.0, max(0.0, 0.62 + 0.15 * ability[sid] + rng.gauss(0, 0.1)))
            score = str(round(pct * max_score))
            if rng.random() < 0.05:
                score = "abs"
            attempt = 2 if rng.random() < 0.1 else 1
            final = round(min(10.0, max(1.0, 1 + 9 * pct + rng.gauss(0, 0.6) - 0.1 * level.get(cls, 4))), 1)
            final_s = str(final) if rng.random() > 0.04 else ""
            f.write(f"{sid},{subject},{cls},{attempt},{max_score},{score},{final_s}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
