#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what virt-doctor needs to build and test, with whatever package manager this
# distribution has. Installs only what is missing; prints what it runs.
set -eu

# Each need as "pkg-config-name-or-command:apt:dnf:pacman:zypper:apk".
NEEDS="
cc:gcc:gcc:gcc:gcc:gcc
make:make:make:make:make:make
pkg-config:pkg-config:pkgconf-pkg-config:pkgconf:pkg-config:pkgconf
libkmod:libkmod-dev:kmod-devel:kmod:libkmod-devel:kmod-dev
libpci:libpci-dev:pciutils-devel:pciutils:pciutils-devel:pciutils-dev
libudev:libudev-dev:systemd-devel:systemd-libs:libudev-devel:eudev-dev
libseccomp:libseccomp-dev:libseccomp-devel:libseccomp:libseccomp-devel:libseccomp-dev
jansson:libjansson-dev:jansson-devel:jansson:libjansson-devel:jansson-dev
inih:libinih-dev:inih-devel:libinih:libinih-devel:inih-dev
cmocka:libcmocka-dev:libcmocka-devel:cmocka:libcmocka-devel:cmocka-dev
clang:clang:clang:clang:clang:clang
valgrind:valgrind:valgrind:valgrind:valgrind:valgrind
setpriv:util-linux:util-linux:util-linux:util-linux:setpriv
"
# clang: make fuzz (libFuzzer ships with clang on Debian; elsewhere also install compiler-rt).
# valgrind: make valgrind. setpriv: the tests that run the doctor as nobody.

if command -v apt-get >/dev/null 2>&1; then col=2; install="apt-get install -y --no-install-recommends"
elif command -v dnf >/dev/null 2>&1; then col=3; install="dnf install -y"
elif command -v pacman >/dev/null 2>&1; then col=4; install="pacman -S --needed --noconfirm"
elif command -v zypper >/dev/null 2>&1; then col=5; install="zypper --non-interactive install"
elif command -v apk >/dev/null 2>&1; then col=6; install="apk add"
else
	echo "install-deps: no known package manager (apt, dnf, pacman, zypper, apk); install by hand:" >&2
	echo "$NEEDS" | cut -d: -f2 | tr '\n' ' ' >&2; echo >&2
	exit 1
fi

present() {
	case "$1" in
	cc|make|pkg-config|clang|valgrind|setpriv) command -v "$1" >/dev/null 2>&1 ;;
	*) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1" ;;
	esac
}

missing=""
for line in $NEEDS; do
	what=${line%%:*}
	pkg=$(echo "$line" | cut -d: -f"$col")
	present "$what" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
	echo "install-deps: all build dependencies present"
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root to install:$missing" >&2; exit 1; }
	sudo="sudo"
fi
if [ "$col" = 2 ]; then
	echo "+ $sudo apt-get update"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	install="env DEBIAN_FRONTEND=noninteractive $install"
fi
echo "+ $sudo $install$missing"
# shellcheck disable=SC2086
$sudo $install $missing
