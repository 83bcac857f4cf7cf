#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make valgrind: the doctor and the VMM under memcheck; fails on any memory error or leak we own.
#
# --errors-for-leak-kinds=definite,indirect: memory nobody points to any more is a bug.
#   "still reachable" is what libkmod, libudev, jansson and glibc keep cached until exit by
#   design; "possibly lost" is interior pointers, e.g. a vCPU thread's TLS when the VMM child
#   _exit()s on a setup error without joining it. Both are reported in the logs, not failed on.
# --error-exitcode=99, not 1: the doctor's own exit code is its verdict, and 1 means
#   "degraded" (what this PVM host gets), so 1 cannot also mean "valgrind found errors".
# Children: the VMM child is a fork() of the doctor, not an exec, so memcheck follows it
#   whatever --trace-children says (that option only concerns execve). We keep the default
#   --trace-children=no so programs the doctor may exec (qemu --version, ...) are not run
#   under valgrind, and we do NOT use --child-silent-after-fork: the child's own report goes
#   to its own log file (%p), and every log is checked below, because --error-exitcode only
#   reaches us from the top process.
# KVM ioctls: valgrind 3.19 prints no "unhandled ioctl" warning for any the VMM uses (they are
#   _IOR/_IOW-encoded or known to it), so no suppressions file is needed; the script fails if
#   such a warning ever appears. Seccomp cannot run under valgrind (see src/vmm/child.c).
# libpci: nothing is suppressed. libpci 3.9 leaks a udev handle per name lookup when udev's
#   hwdb cannot be opened (no hwdb.bin, as here); iommu.groups never lets it try the hwdb then
#   (src/checks/iommu.c), so the live doctor and the iommu-gpu root below must be clean.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/virt-doctor
logs=$build/valgrind
rm -rf "$logs" && mkdir -p "$logs"
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install -y valgrind)"; exit 1; }

kvm=no
[ -r /dev/kvm ] && [ -w /dev/kvm ] && kvm=yes
runs=(
	"doctor|doctor"
	"root-amd|--root tests/fixtures/roots/amd-svm-no-module check"
	"root-iommu|--root tests/fixtures/roots/iommu-gpu check iommu.groups"
)
# The fix executor and the journal reader: an apply on a scratch copy of a fixture root, after
# an apply that the test hook killed mid-way (outside valgrind), so the run under valgrind reads
# an interrupted journal, reports it, writes files atomically and journals.
scratch=$(mktemp -d /tmp/vd-valgrind-fix.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cp -a tests/fixtures/roots/fix-debian "$scratch/root"
VIRT_DOCTOR_TEST_KILL_AFTER_STEPS=3 "$bin" --root "$scratch/root" fix --apply --yes >/dev/null 2>&1
runs+=("fix-apply|--root $scratch/root fix --apply --yes")
if [ $kvm = yes ]; then
	runs+=("boot|boot" "boot-timeout|boot --payload $build/tests/payloads/loop.bin --timeout 2")
else
	echo "SKIP: boot runs: /dev/kvm is not usable here"
fi

fail=0
for r in "${runs[@]}"; do
	name=${r%%|*} args=${r#*|}
	# shellcheck disable=SC2086
	valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--log-file="$logs/$name.%p.log" "$bin" $args >"$logs/$name.out" 2>&1
	rc=$?
	bad=0
	for log in "$logs/$name".*.log; do
		# A child that went on to exec (emulator.qemu's `qemu-* --version`, spawned with
		# vfork semantics) leaves only valgrind's header: the program it became is not ours
		# and not traced (--trace-children=no). Any log with more than the header must end
		# in a clean summary.
		if ! grep -q 'ERROR SUMMARY' "$log" && ! grep -qv '^==[0-9]*== \(Memcheck\|Copyright\|Using Valgrind\|Command:\|Parent PID:\|$\)' "$log"; then
			continue
		fi
		grep -q 'ERROR SUMMARY: 0 errors' "$log" || bad=1
		# pidfd_open (434) is newer than valgrind 3.19, which answers ENOSYS and warns;
		# emulator.qemu then waits for QEMU by polling (src/checks/emulator.c). Any other
		# unknown syscall or ioctl still fails the run.
		grep -iE 'unhandled (ioctl|syscall)' "$log" | grep -qv 'syscall: 434$' && bad=1
	done
	nlogs=$(ls "$logs/$name".*.log | wc -l)
	printf '%-14s exit %-3s processes %s  %s\n' "$name" "$rc" "$nlogs" \
		"$([ $bad = 0 ] && [ $rc -lt 99 ] && echo clean || echo FAILED)"
	if [ $bad != 0 ] || [ $rc -ge 99 ]; then
		fail=1
		grep -hE 'ERROR SUMMARY|definitely|indirectly|unhandled|Invalid|uninitialised' "$logs/$name".*.log | sed 's/^/   /'
	fi
done
[ $fail = 0 ] && echo "valgrind: clean (logs in $logs)" || echo "valgrind: FAILED (logs in $logs)"
exit $fail
