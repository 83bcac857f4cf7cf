# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark driver for `make bench`: wall-time medians over interleaved runs, and ratios.
#
# Two host states, each timed in its own interleaved loop: libvirtd stopped and libvirtd
# running (started here with `libvirtd -d` when it is not running and stopped after; when
# it is, stopped for the stopped state and started again: the host is left as found).
# bench/run.sh holds /run/lock/virt-doctor-libvirt.lock for the whole run, as the tests do.
# Next to the doctor it times what the doctor's slow probes cost on their own (QEMU's
# --version, libvirt.so.0 loaded and asked by bench/libvirt-probe.c), so the floor those
# impose is visible.
# Usage: bench.py BUILD RUNS [--no-libvirtd]
import atexit
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

build, runs = sys.argv[1], int(sys.argv[2])
control_libvirtd = "--no-libvirtd" not in sys.argv[3:]
vd = os.path.join(build, "virt-doctor")
floor = os.path.join(build, "floor")
probe = os.path.join(build, "libvirt-probe")
WARMUP = 3
LIBVIRTD = "/usr/sbin/libvirtd"
SOCK = "/run/libvirt/libvirt-sock"
PIDFILE = "/run/libvirtd.pid"


def which(*names):
    for n in names:
        p = shutil.which(n, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/libexec")
        if p:
            return p
    return None


qemu = which("qemu-system-" + os.uname().machine, "qemu-kvm")
qemu_img = which("qemu-img")
vhv = which("virt-host-validate")
kvm_ok = which("kvm-ok")


# The probe cache (emulator.qemu, cpu.guest_model, iommu.groups' PCI names): cold runs each
# get a new empty directory (created and removed outside the timing), warm runs share one
# filled before the loop. Neither touches /var/cache/virt-doctor.
bench_cache = tempfile.mkdtemp(prefix="vd-bench-cache.")
WARM_ENV = dict(os.environ, VIRT_DOCTOR_CACHE_DIR=os.path.join(bench_cache, "warm"))
COLD = "cold"
atexit.register(shutil.rmtree, bench_cache, True)


def commands(libvirtd_up):
    c = {
        "floor": [floor],
        "vd_check_noboot_cold": (COLD, [vd, "check", "--no-boot"]),
        "vd_check_noboot_warm": (WARM_ENV, [vd, "check", "--no-boot"]),
        "vd_doctor": (WARM_ENV, [vd]),
        "vd_boot": [vd, "boot"],
    }
    if vhv:
        c["virt_host_validate"] = [vhv, "qemu"]
    if kvm_ok:
        c["kvm_ok"] = [kvm_ok]
    # What emulator.qemu and libvirt.daemon wait for, alone.
    if qemu:
        c["qemu_version"] = [qemu, "--version"]
    if qemu_img:
        c["qemu_img_version"] = [qemu_img, "--version"]
    if os.path.exists(probe) and subprocess.run([probe, "load"], stderr=subprocess.DEVNULL).returncode == 0:
        c["libvirt_dlopen"] = [probe, "load"]
        if libvirtd_up:
            c["libvirt_ask"] = [probe, "ask"]
    return c


def interleaved(cmds):
    """Median wall time per command, in ms; the commands take turns so drift hits all alike."""
    t = {name: [] for name in cmds}
    for i in range(WARMUP + runs):
        for name, cmd in cmds.items():
            env, argv = cmd if isinstance(cmd, tuple) else (None, cmd)
            cold = env == COLD
            if cold:
                d = tempfile.mkdtemp(dir=bench_cache)
                env = dict(os.environ, VIRT_DOCTOR_CACHE_DIR=os.path.join(d, "c"))
            t0 = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if i >= WARMUP:
                t[name].append(time.perf_counter() - t0)
            if cold:
                shutil.rmtree(d)
    return {name: statistics.median(v) * 1000 for name, v in t.items()}


def per_check(n=11):
    """Median duration_us of each check inside `check --no-boot`, from the JSON report."""
    d = {}
    for _ in range(n):
        out = subprocess.run([vd, "--format", "json", "check", "--no-boot"], capture_output=True,
                             text=True, env=WARM_ENV).stdout
        try:
            for c in json.loads(out)["checks"]:
                d.setdefault(c["id"], []).append(c["duration_us"])
        except (ValueError, KeyError):
            pass
    return {k: statistics.median(v) / 1000 for k, v in d.items()}


def libvirtd_running():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(SOCK)
        return True
    except OSError:
        return False
    finally:
        s.close()


def virbr0():
    return os.path.exists("/sys/class/net/virbr0")


def libvirtd_start():
    # close_fds: flock(1) gave us the lock as an inheritable fd; a daemon that inherited it
    # would hold the lock for as long as it runs and block every libvirt test.
    r = subprocess.run([LIBVIRTD, "-d"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=30, close_fds=True)
    if r.returncode != 0:
        return False
    for _ in range(100):
        if libvirtd_running():
            return True
        time.sleep(0.1)
    return False


def libvirtd_stop():
    try:
        with open(PIDFILE) as f:
            pid = int(f.read().strip())
        os.kill(pid, 15)
    except (OSError, ValueError):
        return False
    for _ in range(100):
        if not os.path.exists(SOCK):
            return True
        time.sleep(0.1)
    return False


def report(state, med, checks):
    print(f"\n{state}: {runs} interleaved runs each (after {WARMUP} warm-up), wall-time medians")
    print(f"  (/dev/kvm {oct(os.stat('/dev/kvm').st_mode & 0o777) if os.path.exists('/dev/kvm') else 'missing'})")
    for name, ms in med.items():
        print(f"  {name:20s} {ms:9.2f} ms")
    print("  ratios of medians:")

    def ratio(a, b, goal=None, note=""):
        if a in med and b in med:
            g = f"   (goal <= {goal})" if goal is not None else ""
            print(f"    {a} / {b} = {med[a] / med[b]:.2f}{g}{note}")

    ratio("vd_check_noboot_warm", "virt_host_validate", 1, "   (warm probe cache: no QEMU runs)")
    ratio("vd_check_noboot_cold", "virt_host_validate", None, "   (cold: every QEMU probe runs)")
    ratio("vd_doctor", "virt_host_validate", None, "   (with the smoke boot)")
    ratio("vd_doctor", "kvm_ok")
    ratio("vd_boot", "floor", 3)
    ratio("qemu_version", "virt_host_validate", None, "   (QEMU's --version alone: the floor emulator.qemu imposes)")
    ratio("vd_check_noboot_cold", "qemu_version", None, "   (the cold doctor over that floor)")
    if "libvirt_ask" in med:
        ratio("libvirt_ask", "virt_host_validate", None, "   (libvirt.so.0 loaded and asked, alone)")
    if checks:
        top = sorted(checks.items(), key=lambda kv: -kv[1])[:6]
        print("  inside check --no-boot, median ms per check (slowest six): " +
              ", ".join(f"{k} {v:.2f}" for k, v in top))


results = {}
if not control_libvirtd:
    up = libvirtd_running()
    print("bench: not controlling libvirtd (no lock); measuring the state it is in")
    results["libvirtd " + ("running" if up else "stopped")] = (interleaved(commands(up)), per_check())
elif not os.access(LIBVIRTD, os.X_OK):
    print("bench: libvirtd not installed (apt-get install libvirt-daemon-system); one state only")
    results["libvirt not installed"] = (interleaved(commands(False)), per_check())
elif libvirtd_running():
    # Someone's daemon: as the libvirt tests do, stop it for the stopped state and start it
    # again afterwards, so the host is left as found (a daemon stopped and restarted keeps
    # its running networks: virbr0 and dnsmasq do not depend on it).
    results["libvirtd running"] = (interleaved(commands(True)), per_check())
    if libvirtd_stop():
        try:
            results["libvirtd stopped"] = (interleaved(commands(False)), per_check())
        finally:
            if not libvirtd_start():
                print("bench: could not start libvirtd again (it was running before the bench)")
    else:
        print("bench: could not stop the running libvirtd; stopped state not measured")
else:
    results["libvirtd stopped"] = (interleaved(commands(False)), per_check())
    had_bridge = virbr0()
    if libvirtd_start():
        try:
            results["libvirtd running"] = (interleaved(commands(True)), per_check())
        finally:
            # Stop what we started: the default network too, if starting libvirtd brought it up.
            if virbr0() and not had_bridge and shutil.which("virsh"):
                subprocess.run(["virsh", "-q", "net-destroy", "default"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
            if not libvirtd_stop():
                print("bench: could not stop the libvirtd started for the bench (see /run/libvirtd.pid)")
    else:
        print("bench: `libvirtd -d` did not bring up its socket; running state not measured")

for name in ("virt-host-validate", "kvm-ok"):
    if not which(name):
        print(f"bench: {name} not installed (apt-get install libvirt-clients cpu-checker); skipped")
for state, (med, checks) in sorted(results.items(), key=lambda kv: "running" in kv[0]):
    report(state, med, checks)

# The VMM child's peak RSS beyond the guest RAM it maps (the guest touches every page).
rss = []
for _ in range(min(runs, 11)):
    out = subprocess.run([vd, "boot", "--format", "json"], capture_output=True, text=True).stdout
    try:
        d = json.loads(out)["checks"][0]["details"]
        rss.append(d["child_peak_rss_kib"] / 1024 - d["memory_mib"])
    except (ValueError, KeyError, IndexError):
        pass
print()
if rss:
    print(f"VMM child peak RSS over guest RAM: {statistics.median(rss):.2f} MiB (goal <= 5)")
else:
    print("VMM child peak RSS: not available (boot produced no report)")
