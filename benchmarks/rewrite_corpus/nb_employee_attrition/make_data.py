"""Employee attrition (IBM HR Analytics layout, a subset of the columns) and the yearly engagement-survey
export (several answers per employee). Usage: python make_data.py DIR ROWS (ROWS employees)"""
import os
import sys

import numpy as np
import pandas as pd

ROLES = {"Sales": ["Sales Executive", "Sales Representative", "Manager"],
         "Research & Development": ["Research Scientist", "Laboratory Technician", "Manufacturing Director",
                                    "Healthcare Representative", "Research Director", "Manager"],
         "Human Resources": ["Human Resources", "Manager"]}


def main(folder, rows):
    rng = np.random.default_rng(1470)
    os.makedirs(folder, exist_ok=True)
    numbers = np.sort(rng.choice(np.arange(1, rows * 3), rows, replace=False))
    dept = rng.choice(list(ROLES), rows, p=[.3, .65, .05])
    role = np.array([rng.choice(ROLES[d]) for d in dept])
    level = rng.choice([1, 2, 3, 4, 5], rows, p=[.37, .36, .15, .07, .05])
    age = (rng.normal(33, 7, rows) + 2.5 * level).clip(18, 60).round(0).astype(int)
    total_years = np.minimum(age - 18, (rng.gamma(2, 3, rows) + 2 * level).round(0)).astype(int)
    years_company = np.minimum(total_years, rng.gamma(1.5, 3.5, rows).round(0)).astype(int)
    income = (level * 3300 + rng.normal(0, 1100, rows)).clip(1009, 19999).round(0).astype(int)
    overtime = rng.choice(["Yes", "No"], rows, p=[.28, .72])
    satisfaction = rng.choice([1, 2, 3, 4], rows)
    p = (0.1 + 0.18 * (overtime == "Yes") + 0.1 * (level == 1) + 0.06 * (satisfaction == 1)
         - 0.004 * (age - 30)).clip(0.03, 0.8)
    attrition = np.where(rng.random(rows) < p, "Yes", "No")
    travel = rng.choice(["Travel_Rarely", "Travel_Frequently", "Non-Travel", "travel_rarely"], rows,
                        p=[.66, .19, .1, .05])
    pd.DataFrame({
        "Age": age,
        "Attrition": attrition,
        "BusinessTravel": travel,
        "Department": dept,
        "DistanceFromHome": rng.integers(1, 30, rows),
        "Education": rng.choice([1, 2, 3, 4, 5], rows, p=[.12, .19, .39, .27, .03]),
        "EducationField": rng.choice(["Life Sciences", "Medical", "Marketing", "Technical Degree", "Other",
                                      "Human Resources"], rows, p=[.41, .32, .11, .09, .05, .02]),
        "EmployeeCount": 1,
        "EmployeeNumber": numbers,
        "EnvironmentSatisfaction": rng.choice([1, 2, 3, 4], rows),
        "Gender": rng.choice(["Male", "Female"], rows, p=[.6, .4]),
        "JobLevel": level,
        "JobRole": role,
        "JobSatisfaction": satisfaction,
        "MaritalStatus": rng.choice(["Married", "Single", "Divorced"], rows, p=[.46, .32, .22]),
        "MonthlyIncome": income,
        "NumCompaniesWorked": rng.choice(np.arange(10), rows),
        "Over18": "Y",
        "OverTime": overtime,
        "PercentSalaryHike": rng.integers(11, 26, rows),
        "StandardHours": 80,
        "TotalWorkingYears": total_years,
        "YearsAtCompany": years_company,
        "YearsSinceLastPromotion": np.minimum(years_company, rng.poisson(2, rows)),
    }).to_csv(os.path.join(folder, "HR-Employee-Attrition.csv"), index=False)

    # the survey tool exports one row per answer; people answer up to three times, a few never
    who = np.repeat(numbers, rng.choice([0, 1, 2, 3], rows, p=[.06, .5, .3, .14]))
    n = len(who)
    dates = pd.Timestamp("2023-01-09") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    wlb = rng.choice(["1", "2", "3", "4", " 3", ""], n, p=[.06, .22, .5, .17, .03, .02])
    pd.DataFrame({
        "employee_number": who,
        "survey_date": dates.strftime("%Y-%m-%d"),
        "work_life_balance": wlb,
        "manager_rating": rng.choice([1, 2, 3, 4, 5], n, p=[.05, .1, .3, .35, .2]),
    }).sample(frac=1, random_state=6).to_csv(os.path.join(folder, "engagement_survey.csv"), index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
