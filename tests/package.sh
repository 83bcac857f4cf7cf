#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installable like a real tool: make install into a scratch prefix and a DESTDIR, CPPFLAGS and
# WERROR reaching the compiles, the .deb built from a fresh clone, linted, installed, used from
# an unrelated directory and removed, and the RPM built. A missing tool is a visible SKIP.
# Usage: tests/package.sh
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
tmp=$(mktemp -d /tmp/vd-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "package.sh: FAIL: $*"; exit 1; }
ok() { echo "package.sh: ok: $*"; }
skip() { echo "SKIP: $*"; }

# A directory with a planted debian.ini: no installed binary may read it.
mkdir -p "$tmp/cwd/data/distros"
sed 's/^name = Debian$/name = Planted/' data/distros/debian.ini > "$tmp/cwd/data/distros/debian.ini"
plan_ok() {	# BINARY: `fix` from $tmp/cwd plans from the installed data
	out=$(cd "$tmp/cwd" && env -u VIRT_DOCTOR_DATADIR "$1" fix 2>&1) || [ $? -le 2 ] || fail "$1 fix: $out"
	case "$out" in *Planted*) fail "$1 fix took the plan from the current directory" ;; esac
	echo "$out" | grep -q "^distro data: [a-z]*\.ini" || fail "$1 fix read no data: $out"
}

# 1. make && make install PREFIX=...: the data directory follows PREFIX.
make -s -j2 BUILD="$tmp/b" >/dev/null
make -s -j2 BUILD="$tmp/b" PREFIX="$tmp/prefix" install >/dev/null
plan_ok "$tmp/prefix/bin/virt-doctor"
make -s -j2 BUILD="$tmp/b" PREFIX=/usr DESTDIR="$tmp/dest" install >/dev/null
grep -q /usr/share/virt-doctor "$tmp/dest/usr/bin/virt-doctor" || fail "PREFIX=/usr binary lacks /usr/share/virt-doctor"
! grep -q /usr/local/share/virt-doctor "$tmp/dest/usr/bin/virt-doctor" || fail "PREFIX=/usr binary kept /usr/local"
grep -q '/usr/share/virt-doctor/distros' "$tmp/dest/usr/share/man/man8/virt-doctor.8" || fail "man page FILES not from PREFIX"
! grep -q '@[A-Z_]*@' "$tmp/dest/usr/share/man/man8/virt-doctor.8" || fail "man page has unsubstituted @VARS@"
[ -f "$tmp/dest/usr/share/virt-doctor/distros/debian.ini" ] || fail "data not installed under DESTDIR"
ok "make install PREFIX=<scratch> plans from its data in any directory; PREFIX=/usr rebuilt with /usr paths"

# 2. CPPFLAGS reaches every C compile; -Werror only when WERROR=1 (the default).
make -s -n -B V=1 BUILD="$tmp/n" CPPFLAGS=-DVD_CPPFLAGS_PROBE check > "$tmp/n.log"
n=$(grep -c -E '(^| )(cc|gcc|clang)( |$).*\.c( |$)' "$tmp/n.log") || true
[ "$n" -gt 50 ] || fail "only $n compiles in make -n"
if grep -E '(^| )(cc|gcc|clang)( |$).*\.c( |$)' "$tmp/n.log" | grep -v -q -- -DVD_CPPFLAGS_PROBE; then
	fail "a compile without CPPFLAGS: $(grep -E '\.c( |$)' "$tmp/n.log" | grep -v -- -DVD_CPPFLAGS_PROBE | head -1)"
fi
grep -q -- '-Werror ' "$tmp/n.log" || fail "development build without -Werror"
make -s -n -B V=1 BUILD="$tmp/n" WERROR=0 all | grep -q -- '-Werror ' && fail "WERROR=0 still has -Werror"
ok "CPPFLAGS in all $n compiles; -Werror unless WERROR=0"

# 3. The .deb, from a fresh clone.
if ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
	skip "dpkg-buildpackage or debhelper missing (scripts/install-deps.sh --test): .deb not built"
else
	git clone -q "$src" "$tmp/deb/src" || fail "git clone"
	(cd "$tmp/deb/src" && dpkg-buildpackage -b -us -uc -j2) > "$tmp/deb.log" 2>&1 ||
		{ tail -30 "$tmp/deb.log"; fail "dpkg-buildpackage"; }
	deb=$(ls "$tmp"/deb/virt-doctor_*.deb)
	grep -q -- '-D_FORTIFY_SOURCE=2' "$tmp/deb.log" || fail "dpkg-buildflags' CPPFLAGS did not reach the build"
	dpkg-deb -f "$deb" Depends | grep -q 'libkmod2' || fail "Depends lacks libkmod2"
	dpkg-deb -f "$deb" Depends | grep -q 'libxml2' || fail "Depends lacks libxml2"
	dpkg-deb -f "$deb" Recommends | grep -q 'libvirt0' || fail "Recommends lacks libvirt0"
	ok "dpkg-buildpackage -b built $(basename "$deb"): Depends $(dpkg-deb -f "$deb" Depends)"
	if command -v lintian >/dev/null 2>&1; then
		lintian "$deb" > "$tmp/lintian.log" 2>&1 || true
		if grep -q '^E:' "$tmp/lintian.log"; then cat "$tmp/lintian.log"; fail "lintian errors"; fi
		ok "lintian: no errors ($(grep -c '^[WI]:' "$tmp/lintian.log" || true) warnings/infos)"
	else
		skip "lintian is not installed: the .deb not linted"
	fi
	if [ "$(id -u)" -ne 0 ]; then
		skip "installing the .deb needs root"
	elif dpkg-query -W -f '${Status}' virt-doctor 2>/dev/null | grep -q installed; then
		skip "virt-doctor is installed as a package here already: not replaced"
	else
		# Installing and removing packages holds the shared libvirt lock (see README).
		flock /run/lock/virt-doctor-libvirt.lock sh -c '
			set -e
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" > "$2/apt.log" 2>&1 || { cat "$2/apt.log"; exit 1; }
			rc=0
			"$3" "$2" || rc=$?
			DEBIAN_FRONTEND=noninteractive apt-get purge -y -q virt-doctor > "$2/purge.log" 2>&1 || { cat "$2/purge.log"; exit 1; }
			exit $rc' sh "$deb" "$tmp" "$src/tests/package-installed.sh" || fail "the installed package"
		! dpkg-query -W -f '${Status}' virt-doctor 2>/dev/null | grep -q 'ok installed' || fail "not removed"
		ok "apt-get install ./$(basename "$deb"), fix from an unrelated directory, purge"
	fi
fi

# 4. The RPM (Debian's rpm has no database of the build dependencies: --nodeps).
if ! command -v rpmbuild >/dev/null 2>&1; then
	skip "rpmbuild is not installed (apt-get install rpm): RPM not built"
else
	mkdir -p "$tmp/rpm/SOURCES"
	version=$(sed -n 's/^Version: *//p' contrib/rpm/virt-doctor.spec)
	git archive --prefix="virt-doctor-$version/" -o "$tmp/rpm/SOURCES/virt-doctor-$version.tar.gz" HEAD
	rpmbuild -bb --nodeps --define "_topdir $tmp/rpm" contrib/rpm/virt-doctor.spec > "$tmp/rpm.log" 2>&1 ||
		{ tail -30 "$tmp/rpm.log"; fail "rpmbuild"; }
	rpm=$(ls "$tmp"/rpm/RPMS/*/virt-doctor-"$version"-*.rpm)
	rpm -qlp "$rpm" 2>/dev/null | grep -q '^/usr/share/virt-doctor/distros/debian.ini$' || fail "RPM lacks the data"
	rpm -qp --requires "$rpm" 2>/dev/null | grep -q '^kmod-libs' || fail "RPM does not require kmod-libs"
	ok "rpmbuild -bb --nodeps built $(basename "$rpm")"
fi
echo "package.sh: PASS"
