#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Generate a fleet of JSON reports for `virt-doctor fleet` from real reports: the doctor is run on
# every fixture root (device nodes made when we are root) and live, then each generated host is
# one of those reports with its host name, distribution, kernel, check statuses and age varied
# deterministically from --seed. The verdict and exit code are recomputed, so every report stays
# valid against docs/report.schema.json. --bad adds broken files; --manifest records what a merge
# must find.
# Usage: bench/gen-fleet.py --bin VD --fixtures DIR --out DIR --count N [--seed S] [--now EPOCH]
#                           [--bad] [--manifest FILE]
import argparse
import copy
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True)
ap.add_argument("--fixtures", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--count", type=int, default=1000)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--now", type=int, default=None, help="epoch seconds the reports' ages count from")
ap.add_argument("--stale-days", type=int, default=7)
ap.add_argument("--bad", action="store_true")
ap.add_argument("--manifest")
args = ap.parse_args()
now = args.now if args.now is not None else int(time.time())


def materialized(root):
    """A copy of a fixture root with its device nodes made (root only), like tests/harness.c."""
    tmp = tempfile.mkdtemp(prefix="vd-gen-root-")
    dst = os.path.join(tmp, "r")
    shutil.copytree(root, dst, symlinks=True)
    nodes = os.path.join(dst, "nodes")
    if os.geteuid() == 0 and os.path.exists(nodes):
        for line in open(nodes):
            f = line.split()
            if line.startswith("#") or len(f) != 7:
                continue
            path = dst + f[0]
            os.makedirs(os.path.dirname(path), exist_ok=True)
            mode = int(f[4], 8)
            os.mknod(path, (stat.S_IFBLK if f[1] == "b" else stat.S_IFCHR) | mode,
                     os.makedev(int(f[2]), int(f[3])))
            os.chown(path, int(f[5]), int(f[6]))
            os.chmod(path, mode)
    return tmp, dst


def real_reports():
    seeds = []
    roots = os.path.join(args.fixtures, "roots")
    for name in sorted(os.listdir(roots)):
        tmp, dst = materialized(os.path.join(roots, name))
        try:
            out = subprocess.run([args.bin, "--root", dst, "--format", "json", "check"],
                                 capture_output=True, text=True, timeout=60).stdout
            seeds.append(json.loads(out))
        finally:
            shutil.rmtree(tmp)
    for argv in ([args.bin, "--format", "json", "check", "--no-boot"], [args.bin, "--format", "json"]):
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
        seeds.append(json.loads(out))
    return seeds


DISTROS = [("debian", "12", "Debian GNU/Linux 12 (bookworm)"), ("debian", "11", "Debian GNU/Linux 11 (bullseye)"),
           ("ubuntu", "22.04", "Ubuntu 22.04.4 LTS"), ("ubuntu", "24.04", "Ubuntu 24.04.1 LTS"),
           ("rhel", "9.4", "Red Hat Enterprise Linux 9.4 (Plow)"), ("fedora", "40", "Fedora Linux 40 (Server Edition)"),
           ("opensuse-leap", "15.6", "openSUSE Leap 15.6"), ("arch", None, "Arch Linux")]
KERNELS = ["6.1.0-25-amd64", "6.1.0-28-amd64", "5.10.0-32-amd64", "5.15.0-119-generic", "6.8.0-45-generic",
           "5.14.0-427.13.1.el9_4.x86_64", "6.10.6-200.fc40.x86_64", "6.4.0-150600.23.17-default", "6.10.10-arch1-1"]
RANK = {"pass": 0, "skip": 0, "warn": 1, "fail": 2}


def verdict_of(checks):
    st = [c["status"] for c in checks]
    if "fail" in st:
        return "not-ready", 2
    if "warn" in st:
        return "degraded", 1
    if "pass" in st:
        return "ready", 0
    return "unknown", 3


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    rng = random.Random(args.seed)
    seeds = real_reports()
    os.makedirs(args.out, exist_ok=True)
    manifest = {"hosts": args.count, "verdicts": {"ready": 0, "degraded": 0, "not-ready": 0, "unknown": 0},
                "stale": 0, "fail": {}, "warn": {}, "bad": {}, "seeds": len(seeds)}
    for i in range(args.count):
        r = copy.deepcopy(rng.choice(seeds))
        name = f"host-{i:05d}.dc{i % 7}.example.net"
        r["host"]["hostname"] = name
        os_id, ver, pretty = rng.choice(DISTROS)
        r["host"]["os_id"], r["host"]["os_pretty_name"] = os_id, pretty
        if ver:
            r["host"]["os_version_id"] = ver
        else:
            r["host"].pop("os_version_id", None)
        r["host"]["kernel_release"] = rng.choice(KERNELS)
        # Most hosts look healthy, some drift: statuses are shuffled per check, not per report.
        for c in r["checks"]:
            x = rng.random()
            if c["status"] == "skip":
                continue
            c["status"] = "pass" if x < 0.75 else "warn" if x < 0.9 else "fail" if x < 0.97 else c["status"]
        r["verdict"], r["exit_code"] = verdict_of(r["checks"])
        age = rng.randrange(0, 86400) if rng.random() < 0.97 else rng.randrange(8 * 86400, 60 * 86400)
        r["generated_at"] = iso(now - age)
        manifest["verdicts"][r["verdict"]] += 1
        manifest["stale"] += age > args.stale_days * 86400
        for c in r["checks"]:
            if c["status"] in ("fail", "warn"):
                manifest[c["status"]][c["id"]] = manifest[c["status"]].get(c["id"], 0) + 1
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(r, f, indent=2)
    if args.bad:
        good = json.dumps(seeds[0], indent=2)
        bad = {
            "truncated.json": (good[: len(good) // 2], "invalid JSON"),
            "empty.json": ("", "empty file"),
            "binary.json": (bytes(rng.randrange(256) for _ in range(4096)), "invalid JSON"),
            "major2.json": (good.replace('"schema_version": "1.', '"schema_version": "2.', 1), "schema major 2"),
            "dupkeys.json": (good.replace('"verdict":', '"verdict": "ready", "verdict":', 1), "duplicate"),
            "fixplan.json": ('{"kind": "fix-plan", "schema_version": "1.0.0"}', "not a report"),
            "deep.json": ("[" * 5000 + "]" * 5000, "invalid JSON"),
            "huge.json": ('{"pad": "' + "x" * (5 << 20) + '"}', "too large"),
        }
        for name, (text, why) in bad.items():
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(text if isinstance(text, bytes) else text.encode())
            manifest["bad"][name] = why
    if args.manifest:
        with open(args.manifest, "w") as f:
            json.dump(manifest, f, indent=2)
    print(f"gen-fleet: {args.count} reports from {len(seeds)} real ones"
          f"{', plus %d bad files' % len(manifest['bad']) if args.bad else ''} in {args.out}", file=sys.stderr)


main()
