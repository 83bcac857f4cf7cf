#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what virt-doctor needs to build and test, with whatever package manager this
# distribution has. Installs only what is missing; prints what it runs.
set -eu

# Each need as "pkg-config-name-or-command:apt:dnf:pacman:zypper:apk" (py-MODULE: a Python module).
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
libxml-2.0:libxml2-dev:libxml2-devel:libxml2:libxml2-devel:libxml2-dev
ip:iproute2:iproute:iproute2:iproute2:iproute2
cmocka:libcmocka-dev:libcmocka-devel:cmocka:libcmocka-devel:cmocka-dev
virsh:libvirt-clients:libvirt-client:libvirt:libvirt-client:libvirt-client
libvirtd:libvirt-daemon-system:libvirt-daemon-kvm:libvirt:libvirt-daemon-qemu:libvirt-daemon
py-jsonschema:python3-jsonschema:python3-jsonschema:python-jsonschema:python3-jsonschema:py3-jsonschema
py-prometheus_client:python3-prometheus-client:python3-prometheus_client:python-prometheus_client:python3-prometheus_client:py3-prometheus-client
ansible-playbook:ansible:ansible:ansible:ansible:ansible
qemu-system-x86_64:qemu-system-x86:qemu-kvm:qemu-base:qemu-x86:qemu-system-x86_64
qemu-img:qemu-utils:qemu-img:qemu-img:qemu-tools:qemu-img
clang:clang:clang:clang:clang:clang
valgrind:valgrind:valgrind:valgrind:valgrind:valgrind
setpriv:util-linux:util-linux:util-linux:util-linux:setpriv
"
# virsh and libvirtd are for the tests: tests/test_libvirt.c runs the real daemon.
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
	cc|make|pkg-config|ip|virsh|ansible-playbook|qemu-system-x86_64|qemu-img|clang|valgrind|setpriv) command -v "$1" >/dev/null 2>&1 ;;
	libvirtd) command -v libvirtd >/dev/null 2>&1 || [ -x /usr/sbin/libvirtd ] ;;
	# Test-only Python modules (check-json's schema validator, the Prometheus text parser).
	py-*) "$(command -v /usr/bin/python3 || command -v python3)" -c "import ${1#py-}" >/dev/null 2>&1 ;;
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
