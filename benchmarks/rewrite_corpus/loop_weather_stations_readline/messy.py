# station network export -> one clean row per station-day for the agronomy people
# (the export is ';' separated and has a QC flag per row, S = suspect)
import os

if not os.path.exists("out"):
    os.mkdir("out")

f = open("data/weather_daily.txt", "r")
header = f.readline()  # station;date;tmin;tmax;precip_mm;quality
print("columns:", header.strip())

kept = []
n_lines = 0
n_bad = 0
while True:
    line = f.readline()
    if not line:
        break
    n_lines += 1
    parts = line.rstrip('\n').split(';')
    if len(parts) < 6:
        n_bad += 1
        continue
    station, date, tmin, tmax, precip, quality = parts
    if quality.strip().upper() == 'S':
        continue
    try:
        tmin = float(tmin)
        tmax = float(tmax)
    except ValueError:
        n_bad += 1
        continue
    if tmax > 60:   # 9999 = overflow
        continue
    if tmax < tmin:
        continue
    if precip == 'M':
        precip = 0.0
    else:
        precip = float(precip)
    tmean = (tmin + tmax) / 2
    spread = tmax - tmin
    frost = 1 if tmin < 0 else 0
    wet = 1 if precip >= 1.0 else 0
    kept.append((station, date, tmin, tmax, tmean, spread, precip, frost, wet))
f.close()

print(n_lines, "lines,", n_bad, "unreadable,", len(kept), "kept")

out = open("out/prepared.csv", "w")
out.write("station,date,tmin,tmax,tmean,spread,precip_mm,frost_day,wet_day\n")
for station, date, tmin, tmax, tmean, spread, precip, frost, wet in kept:
    out.write(f"{station},{date},{tmin},{tmax},{tmean:.2f},{spread:.2f},{precip},{frost},{wet}\n")
out.close()
