#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what virt-doctor needs, with whatever package manager this distribution has.
# Installs only what is missing; prints what it runs.
#   install-deps.sh          build dependencies only (what `make` and `make run` need)
#   install-deps.sh --test   build and test dependencies (make check, check-host, asan, valgrind,
#                            fuzz, tests/package.sh, tests/ansible.sh)
set -eu

case "${1:-}" in
"") mode=build ;;
--test) mode=test ;;
*) echo "usage: install-deps.sh [--test]" >&2; exit 2 ;;
esac

# Each need as "pkg-config-name-or-command:apt:dnf:pacman:zypper:apk" (py-MODULE: a Python module;
# "-": that package manager's distributions have no such package, or do not need it).
BUILD_NEEDS="
cc:gcc:gcc:gcc:gcc:gcc
make:make:make:make:make:make
pkg-config:pkg-config:pkgconf-pkg-config:pkgconf:pkg-config:pkgconf
libkmod:libkmod-dev:kmod-devel:kmod:libkmod-devel:kmod-dev
libpci:libpci-dev:pciutils-devel:pciutils:pciutils-devel:pciutils-dev
libudev:libudev-dev:systemd-devel:systemd-libs:libudev-devel:eudev-dev
libseccomp:libseccomp-dev:libseccomp-devel:libseccomp:libseccomp-devel:libseccomp-dev
jansson:libjansson-dev:jansson-devel:jansson:libjansson-devel:jansson-dev
inih:libinih-dev:inih-devel:libinih:libinih-devel:inih-dev
libxml-2.0:libxml2-dev:libxml2-devel:libxml2:libxml2-devel:libxml2-dev
"
# libvirtd needs dnsmasq for its default NAT network (Debian's libvirt-daemon only recommends
# dnsmasq-base, and this script installs without recommends). virt-install: the reality suite.
TEST_NEEDS="
cmocka:libcmocka-dev:libcmocka-devel:cmocka:libcmocka-devel:cmocka-dev
ip:iproute2:iproute:iproute2:iproute2:iproute2
virsh:libvirt-clients:libvirt-client:libvirt:libvirt-client:libvirt-client
libvirtd:libvirt-daemon-system:libvirt-daemon-kvm:libvirt:libvirt-daemon-qemu:libvirt-daemon
dnsmasq:dnsmasq-base:dnsmasq:dnsmasq:dnsmasq:dnsmasq
virt-install:virtinst:virt-install:virt-install:virt-install:virt-install
py-jsonschema:python3-jsonschema:python3-jsonschema:python-jsonschema:python3-jsonschema:py3-jsonschema
py-prometheus_client:python3-prometheus-client:python3-prometheus_client:python-prometheus_client:python3-prometheus_client:py3-prometheus-client
ansible-playbook:ansible:ansible:ansible:ansible:ansible
qemu-system-x86_64:qemu-system-x86:qemu-kvm:qemu-base:qemu-x86:qemu-system-x86_64
qemu-img:qemu-utils:qemu-img:qemu-img:qemu-tools:qemu-img
clang:clang:clang:clang:clang:clang
valgrind:valgrind:valgrind:valgrind:valgrind:valgrind
setpriv:util-linux:util-linux:util-linux:util-linux:setpriv
strace:strace:strace:strace:strace:strace
dpkg-buildpackage:dpkg-dev:-:-:-:-
dh:debhelper:-:-:-:-
fakeroot:fakeroot:-:-:-:-
lintian:lintian:-:-:-:-
rpmbuild:rpm:rpm-build:-:rpm-build:-
"
# virsh, libvirtd and dnsmasq: tests/test_libvirt.c and test_net.c run the real daemon and network.
# clang: make fuzz (libFuzzer ships with clang on Debian; elsewhere also install compiler-rt).
# valgrind: make valgrind. setpriv: the tests that run the doctor as nobody. strace: the test
# that compares the systemd unit's DeviceAllow with the device nodes the checks open.
# dpkg-dev, debhelper, fakeroot, lintian, rpm: tests/package.sh builds the .deb and the RPM.
NEEDS=$BUILD_NEEDS
[ "$mode" = test ] && NEEDS="$BUILD_NEEDS$TEST_NEEDS"

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
	libvirtd|dnsmasq) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] ;;
	# Test-only Python modules (check-json's schema validator, the Prometheus text parser).
	py-*) "$(command -v /usr/bin/python3 || command -v python3)" -c "import ${1#py-}" >/dev/null 2>&1 ;;
	lib*|jansson|inih|cmocka) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1" ;;
	*) command -v "$1" >/dev/null 2>&1 ;;
	esac
}

missing=""
for line in $NEEDS; do
	what=${line%%:*}
	pkg=$(echo "$line" | cut -d: -f"$col")
	[ "$pkg" = - ] && continue
	present "$what" || missing="$missing $pkg"
done

if [ -z "$missing" ]; then
	echo "install-deps: all $mode dependencies present"
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
