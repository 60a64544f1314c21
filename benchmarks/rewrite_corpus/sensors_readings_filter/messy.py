# clean up the greenhouse sensor dump before it goes to the dashboard team
import os

os.makedirs("out", exist_ok=True)

n_in = 0
n_out = 0
out = open("out/prepared.csv", "w")
out.write("reading_id,device_id,temperature_c,temperature_f,humidity\n")
with open("data/readings.csv") as f:
    next(f)  # header
    for line in f:
        n_in += 1
        reading_id, device_id, timestamp, temperature, humidity, status = line.strip().split(",")
        if temperature == "":
            continue
        if status.strip().lower() != "ok":
            continue
        t = float(temperature)
        if t < -40 or t > 60:   # -999 is the fault code
            continue
        h = float(humidity) / 100
        t_f = t * 9 / 5 + 32
        out.write(f"{int(reading_id)},{device_id},{t},{t_f},{h}\n")
        n_out += 1
out.close()
print(f"kept {n_out} of {n_in} readings")
