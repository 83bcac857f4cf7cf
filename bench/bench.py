# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark driver for `make bench`: wall-time medians over interleaved runs, and ratios.
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

build, runs = sys.argv[1], int(sys.argv[2])
vd = os.path.join(build, "virt-doctor")
floor = os.path.join(build, "floor")

commands = {
    "floor": [floor],
    "vd_boot": [vd, "boot"],
    "vd_doctor": [vd],
    "vd_check_noboot": [vd, "check", "--no-boot"],
}
for name, argv in (("virt_host_validate", ["virt-host-validate", "qemu"]), ("kvm_ok", ["kvm-ok"])):
    if shutil.which(argv[0]):
        commands[name] = argv
    else:
        print(f"bench: {argv[0]} not installed (apt-get install libvirt-clients cpu-checker); skipped")

times = {name: [] for name in commands}
# Interleave the commands so that drift on the machine hits all of them alike.
for _ in range(runs):
    for name, argv in commands.items():
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - t0)

med = {name: statistics.median(v) * 1000 for name, v in times.items()}
print(f"bench: {runs} interleaved runs each, wall time medians")
for name, ms in med.items():
    print(f"  {name:20s} {ms:9.2f} ms   ({' '.join(commands[name])})")


def ratio(a, b, goal):
    if a in med and b in med:
        r = med[a] / med[b]
        print(f"  {a} / {b} = {r:.2f}   (goal <= {goal})")


print("ratios of medians:")
ratio("vd_boot", "floor", 3)
ratio("vd_doctor", "virt_host_validate", 1)
ratio("vd_check_noboot", "virt_host_validate", 1)
ratio("vd_doctor", "kvm_ok", 1)

# The VMM child's peak RSS beyond the guest RAM it maps (the guest touches every page).
rss = []
for _ in range(min(runs, 11)):
    out = subprocess.run([vd, "boot", "--format", "json"], capture_output=True, text=True).stdout
    try:
        d = json.loads(out)["checks"][0]["details"]
        rss.append(d["child_peak_rss_kib"] / 1024 - d["memory_mib"])
    except (ValueError, KeyError, IndexError):
        pass
if rss:
    print(f"  VMM child peak RSS over guest RAM: {statistics.median(rss):.2f} MiB (goal <= 5)")
else:
    print("  VMM child peak RSS: not available (boot produced no report)")
