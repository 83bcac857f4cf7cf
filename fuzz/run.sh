#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run each libFuzzer target for a fixed time and print executions, coverage and crashes.
# Usage: fuzz/run.sh BUILD_DIR SECONDS TARGET...
# Seeds come from the "seeds:" line atop fuzz/fuzz_TARGET.c (globs from the source tree;
# @SHARED = the shared corpus, ../shared/corpus or /work/shared/corpus, when present) plus
# fuzz/regressions/TARGET/. The corpus each run grows stays in BUILD_DIR/corpus/TARGET.
set -uo pipefail
cd "$(dirname "$0")/.."
build=$1 seconds=$2
shift 2

shared=
for d in ../shared/corpus /work/shared/corpus; do
	[ -d "$d" ] && { shared=$(cd "$d" && pwd); break; }
done

fail=0
summary=()
for t in "$@"; do
	bin=$build/fuzz-$t corpus=$build/corpus/$t art=$build/artifacts/$t/ log=$build/logs/$t.log
	mkdir -p "$corpus" "$art" "$(dirname "$log")"
	seeds=$(sed -n 's/^.*seeds: *//p' "fuzz/fuzz_$t.c" | head -1)
	nseeds=0
	for pat in $seeds fuzz/regressions/$t/*; do
		case $pat in @SHARED*) [ -n "$shared" ] || continue; pat=$shared${pat#@SHARED} ;; esac
		for f in $pat; do
			[ -f "$f" ] || continue
			# Name by content so re-seeding is idempotent.
			cp "$f" "$corpus/seed-$(sha1sum <"$f" | cut -c1-16)" && nseeds=$((nseeds + 1))
		done
	done
	echo "== fuzz $t: ${seconds}s, $nseeds seed files, corpus $corpus"
	# Scratch files of targets that need real files (sysfs, resolve); gone after the run.
	tmp=$build/tmp/$t
	rm -rf "$tmp" && mkdir -p "$tmp"
	TMPDIR=$(cd "$tmp" && pwd) "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$art" "$corpus" >"$log" 2>&1
	rc=$?
	rm -rf "$tmp"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
	line=$(printf '%-16s executions %-10s cov %-6s ft %-6s crashes %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$crashes")
	echo "$line"
	summary+=("$line")
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		fail=1
		echo "   FAILED (exit $rc); see $log and $art:"
		grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$log" | sed 's/^/   /'
	fi
done
echo "== fuzz summary (${seconds}s each)"
printf '%s\n' "${summary[@]}"
exit $fail
