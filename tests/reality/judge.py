#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The reality suite's judge: did the doctor's verdict predict what libvirt did? (tests/reality/)
#
#   judge.py WORKDIR NAME BASE STEPS CHECK CAUSE NOFAIL MUST   one state -> one JSON line
#   judge.py --table RESULTS UNRUN                             the table, "N passed, N failed"
#
# The rules (issue 11): not ready (exit 2, a fail) when the minimal domain cannot start; when only
# virt-install's default CPU fails, a warn that names the working alternative, and that
# alternative starts; ready only when every guest starts. A failing or warning check must carry
# the words of libvirt's error that name the cause (the table's CAUSE).
import json
import os
import re
import sys

BOILERPLATE = re.compile(r"^(Failed to create domain from|failed to connect to the hypervisor|"
                         r"Domain installation does not|WARNING|Starting install|Creating domain|"
                         r"Domain creation completed|Allocating|Retrieving|Failed to start network)")


def first_line(err):
    """libvirt's error, first line that says something, trimmed."""
    for line in err.splitlines():
        line = re.sub(r"^(error: |ERROR\s+)", "", line.strip()).strip()
        # libvirt's wrapping of what QEMU said; the table has room for QEMU's words only.
        line = re.sub(r"^internal error: (process exited while connecting to monitor|"
                      r"qemu unexpectedly closed the monitor): ", "", line)
        if line and not BOILERPLATE.match(line):
            return line
    return err.strip().splitlines()[0] if err.strip() else ""


def read(work, name):
    try:
        with open(os.path.join(work, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def load(work, name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": str(e)}


def judge_doctor(doc, g, check, cause, nofail):
    """What this doctor report got wrong, as sentences; and its verdict with the causing check."""
    if "error" in doc:
        return ["no doctor report: " + doc["error"]], "none"
    checks = {c["id"]: c for c in doc.get("checks", [])}
    code = doc.get("exit_code")
    fails = [c["id"] for c in doc["checks"] if c["status"] == "fail"]
    warns = [c["id"] for c in doc["checks"] if c["status"] == "warn"]
    problems = []

    def names_cause(cid, statuses):
        c = checks.get(cid)
        if c is None:
            return f"no check {cid} in the report"
        if c["status"] not in statuses:
            return f"{cid} is {c['status']} ({c.get('summary', '')}), not {'/'.join(statuses)}"
        text = (c.get("summary") or "") + " " + (c.get("advice") or "")
        if cause.lower() not in text.lower():
            return f"{cid} does not name the cause: its summary/advice lacks \"{cause}\""
        return None

    if g["min"] != "ok":
        if code != 2:
            problems.append(f"verdict {doc.get('verdict')} but the minimal domain did not start")
        if check == "-":
            problems.append("the table names no check for this failure")
        else:
            p = names_cause(check, ("fail",))
            if p:
                problems.append(p)
    else:
        if code == 2:
            problems.append("not ready, but the minimal domain started (fail: " + ", ".join(fails) + ")")
        if g["vi"] != "ok":
            if code == 0:
                problems.append("ready, but virt-install with its defaults did not start")
            if check == "-":
                problems.append("the table names no check for virt-install's failure")
            else:
                p = names_cause(check, ("warn",))
                if p:
                    problems.append(p)
            if g["adv"] == "n/a":
                problems.append("no working alternative advised (cpu.guest_model advised_virt_install)")
            elif g["adv"] != "ok":
                problems.append("the advised virt-install did not start either")
        elif g["adv"] not in ("ok", "n/a"):
            problems.append("the advised virt-install did not start, though the default did")
    for cid in filter(lambda x: x != "-", nofail.split(",")):
        if checks.get(cid, {}).get("status") == "fail":
            problems.append(f"{cid} fails, but it is not the cause: {checks[cid].get('summary', '')}")
    if code == 2:
        cause_id = check if check in fails else (fails[0] if fails else "?")
    elif code == 1:
        cause_id = check if check in warns else (warns[0] if warns else "?")
    else:
        cause_id = "-"
    return problems, f"{doc.get('verdict')} ({cause_id})"


def judge_vhv(out, g):
    fails = [l.split(":", 2)[1].strip() for l in out.splitlines() if re.search(r":\s*FAIL", l)]
    verdict = "FAIL (" + fails[0].replace("Checking for ", "") + ")" if fails else \
        ("WARN" if re.search(r":\s*WARN", out) else "PASS")
    if g["min"] != "ok":
        agree = bool(fails)
    elif g["vi"] != "ok":
        agree = False	# it cannot name a working CPU model
    else:
        agree = not fails
    return verdict, agree


def one_state(work, name, base, steps, check, cause, nofail, must):
    errs = {k: read(work, f).strip() for k, f in
            (("prep", "prep.err"), ("min", "minimal.err"), ("vi", "vi.err"), ("adv", "advised.err"))}
    # "n/a": no advice to try; "skip": not tried, as the minimal domain failed (reality.sh).
    g = {k: ("ok" if errs[k] == "" else (errs[k] if errs[k] in ("n/a", "skip") else "FAIL"))
         for k in ("min", "vi", "adv")}
    if errs["prep"]:
        g["min"] = "FAIL" if g["min"] == "FAIL" else g["min"]
    shown = next((errs[k] for k in ("prep", "min", "vi", "adv") if errs[k] not in ("", "n/a", "skip")), "")
    problems, verdict = judge_doctor(load(work, "doctor.json"), g, check, cause, nofail)
    bproblems, bverdict = judge_doctor(load(work, "doctor-boot.json"), g, check, cause, nofail)
    problems += ["with the smoke boot: " + p for p in bproblems if p not in problems]
    # The error the table's cause is about: the minimal domain's (and its preparation's) when it
    # failed, else virt-install's default; a state where both start has nothing to hold it to.
    about = [errs["prep"], errs["min"]] if g["min"] != "ok" else ([errs["vi"]] if g["vi"] != "ok" else [])
    if cause != "-" and any(about):
        if cause.lower() not in " ".join(about).lower():
            problems.append(f"libvirt's error does not contain \"{cause}\": the table's idea of this "
                            "state is not what happens here")
    if must == "start" and g["min"] != "ok":
        problems.append("the minimal KVM domain on the default network must start here, and did not")
    fix_rc = read(work, "fix.rc").strip()
    vhv, vhv_agree = judge_vhv(read(work, "vhv.out"), g)
    print(json.dumps({"state": name, "guests": g, "error": first_line(shown), "errors": errs,
                      "doctor": verdict, "doctor_boot": bverdict, "problems": problems,
                      "vhv": vhv, "vhv_agree": vhv_agree, "fix_rc": fix_rc}))


def table(path, unrun):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    hdr = ("state", "guests min/vi/adv", "libvirt's error", "virt-doctor", "agree",
           "virt-host-validate", "agree")

    def cut(s, n):
        return s if len(s) <= n else s[:n - 1] + "~"
    lines = [hdr]
    for r in rows:
        g = r["guests"]
        lines.append((r["state"], f"{g['min']}/{g['vi']}/{g['adv']}", cut(r["error"] or "-", 64),
                      r["doctor"], "no" if r["problems"] else "yes", cut(r["vhv"], 40),
                      "yes" if r["vhv_agree"] else "no"))
    w = [max(len(l[i]) for l in lines) for i in range(len(hdr))]
    for l in lines:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(l)).rstrip())
    for r in rows:
        if r["fix_rc"]:
            print(f"{r['state']}: fix --apply --yes exited {r['fix_rc']}")
        for p in r["problems"]:
            print(f"{r['state']}: {p}")
    failed = sum(1 for r in rows if r["problems"]) + int(unrun)
    if int(unrun):
        print(f"{unrun} state(s) could not be set up or restored (see the log above)")
    print(f"{len(rows) - sum(1 for r in rows if r['problems'])} passed, {failed} failed")
    return 1 if failed else 0


def self_test():
    """The rules on made-up states: each must agree or disagree as stated, or the judge is wrong."""
    import contextlib
    import io
    import tempfile

    def report(code, checks):
        return {"verdict": {0: "ready", 1: "degraded", 2: "not-ready"}[code], "exit_code": code,
                "checks": [{"id": i, "status": st, "summary": sm, "advice": ""} for i, st, sm in checks]}
    perm = "internal error: process exited while connecting to monitor: Could not access KVM kernel module: Permission denied"
    kvm_fail = ("kvm.device", "fail", "libvirt-qemu cannot open /dev/kvm: QEMU will say "
                "\"Could not access KVM kernel module: Permission denied\"")
    kvm_warn = ("kvm.device", "warn", "/dev/kvm is usable, but only by root")
    wedged = ("libvirt.daemon", "fail", "wedged")
    cases = [  # (name, report, errors (prep, min, vi, adv), check, cause, nofail, must, agrees)
        ("right", report(2, [kvm_fail]), ("", perm, perm, "n/a"), "kvm.device",
         "Could not access KVM kernel module", "libvirt.daemon", "-", True),
        ("warn only", report(1, [kvm_warn]), ("", perm, perm, "n/a"), "kvm.device",
         "Could not access KVM kernel module", "-", "-", False),
        ("wrong cause", report(2, [kvm_warn, wedged]), ("", perm, perm, "n/a"), "kvm.device",
         "Could not access KVM kernel module", "-", "-", False),
        ("slow is not wedged", report(2, [kvm_fail, wedged]), ("", perm, perm, "n/a"), "kvm.device",
         "Could not access KVM kernel module", "libvirt.daemon", "-", False),
        ("false alarm", report(2, [wedged]), ("", "", "", "n/a"), "-", "-", "-", "-", False),
        ("all start", report(1, [("host.hypervisor", "warn", "PVM")]), ("", "", "", "n/a"),
         "-", "-", "-", "-", True),
        ("cpu: no advice", report(1, [("host.hypervisor", "warn", "PVM")]),
         ("", "", "failed to set MSR 0x10a", "n/a"), "cpu.guest_model", "failed to set MSR", "-", "-", False),
        ("cpu: advice works", report(1, [("cpu.guest_model", "warn", "host-passthrough: failed to set MSR 0x10a")]),
         ("", "", "failed to set MSR 0x10a", ""), "cpu.guest_model", "failed to set MSR", "-", "-", True),
        ("cpu: ready though it fails", report(0, [("cpu.guest_model", "pass", "ok")]),
         ("", "", "failed to set MSR 0x10a", ""), "cpu.guest_model", "failed to set MSR", "-", "-", False),
        ("reality differs", report(2, [kvm_fail]), ("", "some other error", "", "n/a"), "kvm.device",
         "Could not access KVM kernel module", "-", "-", False),
        ("cause only in another guest's error", report(2, [kvm_fail]),
         ("", "some other error", perm, "n/a"), "kvm.device",
         "Could not access KVM kernel module", "-", "-", False),
        ("fix must start", report(2, [kvm_fail]), ("", perm, "", "n/a"), "kvm.device",
         "Could not access KVM kernel module", "-", "start", False),
    ]
    bad = 0
    for name, rep, errs, check, cause, nofail, must, agrees in cases:
        with tempfile.TemporaryDirectory() as work:
            for f in ("doctor.json", "doctor-boot.json"):
                with open(os.path.join(work, f), "w") as o:
                    json.dump(rep, o)
            for f, e in zip(("prep.err", "minimal.err", "vi.err", "advised.err"), errs):
                with open(os.path.join(work, f), "w") as o:
                    o.write(e)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                one_state(work, name, "healthy", "-", check, cause, nofail, must)
            got = not json.loads(out.getvalue())["problems"]
            if got != agrees:
                bad += 1
                print(f"judge self-test: {name}: agree={got}, expected {agrees}: {out.getvalue().strip()}")
    print(f"judge self-test: {len(cases) - bad} of {len(cases)} cases judged right")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "--self-test":
        sys.exit(self_test())
    if sys.argv[1] == "--table":
        sys.exit(table(sys.argv[2], sys.argv[3]))
    one_state(*sys.argv[1:9])
