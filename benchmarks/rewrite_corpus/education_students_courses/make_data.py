"""University students and course enrolments. Usage: python make_data.py DIR ROWS (ROWS enrolments)"""
import os
import random
import sys

COURSES = [("CS101", "intro", 5), ("CS230", "intermediate", 6), ("CS410", "advanced", 8), ("MA110", "intro", 5),
           ("MA305", "advanced", 7), ("PH120", "intro", 4), ("EC200", "intermediate", 5), ("cs240", "intermediate", 6)]


def main(folder, rows):
    rng = random.Random(12)
    os.makedirs(folder, exist_ok=True)
    n_students = max(10, rows // 4)
    with open(os.path.join(folder, "students.csv"), "w") as f:
        f.write("student_id,full_name,program,year_of_study,scholarship\n")
        for s in range(n_students):
            f.write(f"S{s:05d},Student {s},{rng.choice(['CS', 'Math', 'Physics', 'Econ'])},{rng.randint(1, 5)},"
                    f"{rng.choice(['yes', 'no', 'no'])}\n")
    with open(os.path.join(folder, "enrollments.csv"), "w") as f:
        f.write("enrollment_id,student_id,course_code,level,credits,grade\n")
        for e in range(rows):
            code, level, credits = rng.choice(COURSES)
            sid = f"S{rng.randint(0, n_students + n_students // 10):05d}"  # exchange students are not in the table
            grade = "" if rng.random() < 0.06 else str(rng.randint(10, 100))
            f.write(f"E{e:06d},{sid},{code},{level},{credits},{grade}\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
