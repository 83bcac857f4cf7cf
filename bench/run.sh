#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench: time virt-doctor against the floor program and the installed peers, in one
# run, and print ratios of medians. Usage: bench/run.sh BUILD_DIR [RUNS]
set -eu
build=${1:-build}
runs=${2:-31}
exec python3 "$(dirname "$0")/bench.py" "$build" "$runs"
