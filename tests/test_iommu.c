// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu.groups and the udev side of kvm.device: fixture roots (some edited per test) and this host. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "harness.h"

static void put(const char *dir, const char *path, const char *text)
{
	char full[600], cmd[700];
	FILE *f;

	sfmt(full, "%s%s", dir, path);
	sfmt(cmd, "mkdir -p \"$(dirname '%s')\"", full);
	assert_int_equal(system(cmd), 0);
	f = fopen(full, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void sh(const char *fmt, ...)
{
	char cmd[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* `--root dir --format json check id` */
static json_t *check_root(const char *dir, const char *id)
{
	struct result res = { 0 };
	json_t *j;

	RUN(&res, "--root", (char *)dir, "--format", "json", "check", (char *)id);
	j = parse_json(res.out);
	result_clear(&res);
	return j;
}

static bool list_contains(json_t *array, const char *needle)
{
	json_t *v;
	size_t i;

	json_array_foreach(array, i, v)
		if (strstr(json_string_value(v), needle))
			return true;
	return false;
}

static const char *advice(json_t *j, const char *id)
{
	return json_string_value(json_object_get(find_check(j, id), "advice"));
}

static void test_gpu_host(void **state)
{
	json_t *j, *devs, *cands;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "iommu-gpu", NULL, &st);
	assert_string_equal(check_status(j, "iommu.groups"), "warn");
	assert_true(json_is_true(detail(j, "iommu.groups", "enabled")));
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "groups")), 6);
	assert_string_equal(json_string_value(detail(j, "iommu.groups", "cmdline")), "intel_iommu=on iommu=pt");
	assert_true(list_contains(detail(j, "iommu.groups", "evidence"), "ACPI table DMAR: Intel VT-d"));
	assert_true(list_contains(detail(j, "iommu.groups", "evidence"), "/sys/class/iommu: dmar"));
	/* Names come from the root's own pci.ids excerpt, through libpci; bridges are not listed. */
	assert_string_equal(json_string_value(detail(j, "iommu.groups", "names_from")), "/usr/share/misc/pci.ids");
	devs = detail(j, "iommu.groups", "devices");
	assert_int_equal(json_array_size(devs), 11);
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "devices_total")), 11);
	assert_true(list_has(devs, "0000:01:00.0 [group 1] VGA compatible controller: NVIDIA Corporation "
			     "TU117 [GeForce GTX 1650] (rev a1) (driver nvidia)"));
	assert_true(list_has(devs, "0000:01:00.1 [group 1] Audio device: NVIDIA Corporation TU117 High "
			     "Definition Audio Controller (rev a1) (driver snd_hda_intel)"));
	assert_false(list_contains(devs, "PCI bridge"));
	cands = detail(j, "iommu.groups", "candidates");
	assert_int_equal(json_array_size(cands), 4);
	assert_true(list_has(cands, "0000:01:00.0 GPU NVIDIA Corporation TU117 [GeForce GTX 1650] (rev a1): "
			     "group 1 with its own function(s) 0000:01:00.1: pass them together"));
	assert_true(list_has(cands, "0000:03:00.0 NIC Intel Corporation I210 Gigabit Network Connection "
			     "(rev 03): alone in group 4"));
	assert_true(list_contains(cands, "0000:00:1f.6 NIC Intel Corporation Ethernet Connection (7) I219-V "
				  "(rev 10): group 5 shared with 0000:00:1f.0, 0000:00:1f.3, 0000:00:1f.4, "
				  "0000:00:1f.5: cannot be passed alone"));
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "shared_candidates")), 1);
	/* IOMMU on, candidates, no vfio: the warning that says load vfio-pci. */
	assert_true(json_is_false(detail(j, "iommu.groups", "vfio_loaded")));
	assert_true(list_has(detail(j, "iommu.groups", "vfio"), "vfio_pci: not loaded"));
	assert_true(has_fix(j, "iommu.groups", "modules.load_vfio"));
	assert_false(has_fix(j, "iommu.groups", "firmware.enable_iommu"));
	json_decref(j);
}

static void test_vfio_bound(void **state)
{
	const char *dev = "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0";
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("iommu-gpu", dir, sizeof(dir)))
		SKIP_BECAUSE("iommu-gpu needs root to create its device nodes");
	put(dir, "/sys/module/vfio/initstate", "live\n");
	put(dir, "/sys/module/vfio_pci/initstate", "live\n");
	put(dir, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
	sh("ln -sfn ../../../../bus/pci/drivers/vfio-pci '%s%s/driver'", dir, dev);
	j = check_root(dir, "iommu.groups");
	assert_string_equal(check_status(j, "iommu.groups"), "pass");
	assert_true(json_is_true(detail(j, "iommu.groups", "vfio_loaded")));
	assert_true(list_has(detail(j, "iommu.groups", "vfio"), "vfio_pci: loaded"));
	assert_true(list_has(detail(j, "iommu.groups", "vfio"), "vfio_iommu_type1: built-in"));
	assert_true(list_has(detail(j, "iommu.groups", "vfio_bound"), "0000:01:00.0"));
	assert_int_equal(json_array_size(detail(j, "iommu.groups", "vfio_bound")), 1);
	assert_true(list_contains(detail(j, "iommu.groups", "devices"),
				  "[GeForce GTX 1650] (rev a1) (driver vfio-pci)"));
	/* The shared I219-V is still called out. */
	assert_non_null(strstr(advice(j, "iommu.groups"), "share their IOMMU group"));
	json_decref(j);
	remove_tree(dir);
}

/* The same machine with VT-d left off in the kernel: DMAR is there, no groups, no intel_iommu=on. */
static void test_no_iommu(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("iommu-gpu", dir, sizeof(dir)))
		SKIP_BECAUSE("iommu-gpu needs root to create its device nodes");
	sh("rm -rf '%s/sys/kernel/iommu_groups' '%s/sys/class/iommu' && mkdir -p '%s/sys/kernel/iommu_groups'",
	   dir, dir, dir);
	sh("find '%s/sys/devices' -name iommu_group -delete", dir);
	put(dir, "/proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-26-amd64 root=/dev/sda1 ro quiet\n");
	j = check_root(dir, "iommu.groups");
	assert_string_equal(check_status(j, "iommu.groups"), "warn");
	assert_true(json_is_false(detail(j, "iommu.groups", "enabled")));
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "groups")), 0);
	assert_string_equal(json_string_value(detail(j, "iommu.groups", "cmdline")), "");
	assert_true(has_fix(j, "iommu.groups", "firmware.enable_iommu"));
	assert_non_null(strstr(advice(j, "iommu.groups"), "add intel_iommu=on"));
	assert_true(list_contains(detail(j, "iommu.groups", "candidates"), "GeForce GTX 1650] (rev a1): no IOMMU group"));
	assert_true(list_contains(detail(j, "iommu.groups", "devices"), "0000:01:00.0 [no group] VGA compatible"));
	json_decref(j);

	/* Turned off on the command line: the advice names the word to remove. */
	put(dir, "/proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro intel_iommu=off\n");
	j = check_root(dir, "iommu.groups");
	assert_string_equal(check_status(j, "iommu.groups"), "warn");
	assert_string_equal(json_string_value(detail(j, "iommu.groups", "cmdline")), "intel_iommu=off");
	assert_non_null(strstr(advice(j, "iommu.groups"), "turns it off (intel_iommu=off)"));
	json_decref(j);
	remove_tree(dir);
}

/* No pci.ids in the root: libpci prints numbers, never this machine's names. */
static void test_no_pci_ids(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("iommu-gpu", dir, sizeof(dir)))
		SKIP_BECAUSE("iommu-gpu needs root to create its device nodes");
	sh("rm -f '%s/usr/share/misc/pci.ids'", dir);
	j = check_root(dir, "iommu.groups");
	assert_string_equal(json_string_value(detail(j, "iommu.groups", "names_from")), "none (numeric ids)");
	assert_true(list_contains(detail(j, "iommu.groups", "devices"), "0000:01:00.0 [group 1] Class 0300: Device 10de:1f82"));
	assert_int_equal(json_array_size(detail(j, "iommu.groups", "candidates")), 4);
	json_decref(j);
	remove_tree(dir);
}

/* A sysfs attribute libpci cannot read is fatal to libpci; it must not end our run. */
static void test_unreadable_device(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("iommu-gpu", dir, sizeof(dir)))
		SKIP_BECAUSE("iommu-gpu needs root to create its device nodes");
	sh("cd '%s/sys/devices/pci0000:00/0000:00:02.0' && rm class && mkdir class", dir);
	j = check_root(dir, "iommu.groups");
	assert_string_equal(check_status(j, "iommu.groups"), "warn");
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "unreadable_devices")), 1);
	assert_true(list_has(detail(j, "iommu.groups", "devices"),
			     "0000:00:02.0 [group 2] (unreadable: no vendor/device/class in sysfs)"));
	/* The other functions are still named, through the same libpci handle. */
	assert_true(list_contains(detail(j, "iommu.groups", "devices"), "[GeForce GTX 1650]"));
	assert_int_equal(json_array_size(detail(j, "iommu.groups", "candidates")), 3);
	json_decref(j);
	remove_tree(dir);
}

static void test_no_pci_bus(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "arm64", NULL, &st);
	assert_string_equal(check_status(j, "iommu.groups"), "skip");
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, "iommu.groups"), "summary")),
			       "no PCI devices"));
	json_decref(j);
}

/* An existing root without an IOMMU: pvm is this build machine (a VM with virtio PCI devices). */
static void test_vm_without_iommu(void **state)
{
	json_t *j;
	int st;

	(void)state;
	FIXTURE_OR_SKIP(j, "pvm", NULL, &st);
	assert_string_equal(check_status(j, "iommu.groups"), "warn");
	assert_true(json_is_false(detail(j, "iommu.groups", "enabled")));
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "groups")), 0);
	assert_int_equal(json_array_size(detail(j, "iommu.groups", "evidence")), 0);
	assert_true(has_fix(j, "iommu.groups", "firmware.enable_iommu"));
	assert_non_null(strstr(advice(j, "iommu.groups"), "itself a virtual machine"));
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "devices_total")), 5);
	assert_true(list_has(detail(j, "iommu.groups", "devices"), "0000:00:03.0 [no group] Ethernet controller: "
			     "Red Hat, Inc. Virtio 1.0 network device (rev 01) (driver virtio-pci)"));
	assert_true(list_has(detail(j, "iommu.groups", "candidates"), "0000:00:03.0 NIC Red Hat, Inc. Virtio 1.0 "
			     "network device (rev 01): no IOMMU group"));
	json_decref(j);
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* This host: the verdict must follow what its sysfs says, and the names must be real names. */
static void test_live(void **state)
{
	struct result res = { 0 };
	int n_pci = count_entries("/sys/bus/pci/devices"), n_groups = count_entries("/sys/kernel/iommu_groups");
	json_t *j, *devs, *v;
	size_t i;

	(void)state;
	RUN(&res, "--format", "json", "check", "iommu.groups");
	j = parse_json(res.out);
	if (n_pci <= 0) {
		assert_string_equal(check_status(j, "iommu.groups"), "skip");
		goto out;
	}
	assert_string_not_equal(check_status(j, "iommu.groups"), "skip");
	assert_int_equal(json_integer_value(detail(j, "iommu.groups", "groups")), n_groups > 0 ? n_groups : 0);
	if (n_groups <= 0) {
		assert_string_equal(check_status(j, "iommu.groups"), "warn");
		assert_true(json_is_false(detail(j, "iommu.groups", "enabled")));
		assert_true(has_fix(j, "iommu.groups", "firmware.enable_iommu"));
	} else {
		assert_true(json_is_true(detail(j, "iommu.groups", "enabled")));
	}
	devs = detail(j, "iommu.groups", "devices");
	assert_true(json_array_size(devs) > 0);
	json_array_foreach(devs, i, v) {
		const char *line = json_string_value(v);
		char path[128], cls[32] = "";
		FILE *f;

		if (startswith(line, "..."))
			continue;
		/* Every listed address exists; an Ethernet function is named as one. */
		sfmt(path, "/sys/bus/pci/devices/%.12s/class", line);
		f = fopen(path, "re");
		assert_non_null(f);
		assert_non_null(fgets(cls, sizeof(cls), f));
		fclose(f);
		if (startswith(cls, "0x0200"))
			assert_non_null(strstr(line, "Ethernet controller: "));
		assert_null(strstr(line, "(unreadable"));
	}
	printf("live iommu.groups: %s (%lld us)\n", check_status(j, "iommu.groups"),
	       (long long)json_integer_value(json_object_get(find_check(j, "iommu.groups"), "duration_us")));
out:
	json_decref(j);
	result_clear(&res);
}

/*
 * libpci 3.9 calls udev_new() for every name its hwdb lookup is asked for when udev's hwdb
 * cannot be opened (this machine has no hwdb.bin) and loses the previous handle: valgrind
 * reported definitely-lost blocks from iommu.groups. Live (where hwdb is tried) and offline.
 */
static void test_names_no_leak(void **state)
{
	static const char *const valgrind = "/usr/bin/valgrind";
	char dir[256] = "";
	struct result res = { 0 };

	(void)state;
#ifdef __SANITIZE_ADDRESS__
	SKIP_BECAUSE("valgrind cannot run an AddressSanitizer build (make check runs this test)");
#endif
	if (access(valgrind, X_OK) < 0)
		SKIP_BECAUSE("valgrind is not installed (apt-get install valgrind)");
	for (int live = 1; live >= 0; live--) {
		if (!live && !fixture_copy("iommu-gpu", dir, sizeof(dir)))
			break;
		if (live)
			run_env(&res, NULL, (char *const[]){ (char *)valgrind, (char *)"--error-exitcode=99",
				(char *)"--leak-check=full", (char *)"--errors-for-leak-kinds=definite,indirect",
				(char *)VD_BIN, (char *)"check", (char *)"iommu.groups", NULL });
		else
			run_env(&res, NULL, (char *const[]){ (char *)valgrind, (char *)"--error-exitcode=99",
				(char *)"--leak-check=full", (char *)"--errors-for-leak-kinds=definite,indirect",
				(char *)VD_BIN, (char *)"--root", dir, (char *)"check", (char *)"iommu.groups", NULL });
		if (res.status == 99 || !strstr(res.err, "ERROR SUMMARY: 0 errors"))
			fail_msg("%s: valgrind found errors:\n%s", live ? "live" : "--root", res.err);
		result_clear(&res);
	}
	if (dir[0])
		remove_tree(dir);
}

/* ---- kvm.device: the udev rule behind /dev/kvm's mode ---- */

static void test_udev_rule_offline(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	if (!fixture_copy("intel-vmx-kvm-intel", dir, sizeof(dir)))
		SKIP_BECAUSE("intel-vmx-kvm-intel needs root to create its device nodes");
	j = check_root(dir, "kvm.device");
	assert_string_equal(json_string_value(detail(j, "kvm.device", "udev_rule")),
			    "/usr/lib/udev/rules.d/50-udev-default.rules:8: KERNEL==\"kvm\", GROUP=\"kvm\", "
			    "MODE=\"0660\", OPTIONS+=\"static_node=kvm\"");
	assert_string_equal(json_string_value(detail(j, "kvm.device", "udev_group")), "kvm");
	assert_string_equal(json_string_value(detail(j, "kvm.device", "udev_mode")), "0660");
	/* Offline there is no libudev to ask. */
	assert_null(detail(j, "kvm.device", "udev_properties"));
	json_decref(j);

	/* /etc hides the same file name; a later name overrides the group: udev's own order. */
	put(dir, "/etc/udev/rules.d/50-udev-default.rules", "KERNEL==\"kvm\", MODE=\"0666\"\n");
	put(dir, "/lib/udev/rules.d/99-local.rules", "# later\nSUBSYSTEM==\"misc\", KERNEL == \"kvm\", GROUP:=\"libvirt\"\n");
	j = check_root(dir, "kvm.device");
	assert_string_equal(json_string_value(detail(j, "kvm.device", "udev_rule")),
			    "/lib/udev/rules.d/99-local.rules:2: SUBSYSTEM==\"misc\", KERNEL == \"kvm\", GROUP:=\"libvirt\"");
	assert_string_equal(json_string_value(detail(j, "kvm.device", "udev_group")), "libvirt");
	assert_string_equal(json_string_value(detail(j, "kvm.device", "udev_mode")), "0666");
	assert_int_equal(json_array_size(detail(j, "kvm.device", "udev_rules")), 2);
	json_decref(j);
	remove_tree(dir);
}

static void test_udev_rule_missing_or_pending(void **state)
{
	char dir[256];
	json_t *j;

	(void)state;
	/* pvm models this machine's kernel with /dev/kvm 0600 root:root and no rules at all;
	 * libvirt is installed there, so its QEMU account (libvirt-qemu) is shut out: a fail. */
	if (!fixture_copy("pvm", dir, sizeof(dir)))
		SKIP_BECAUSE("pvm needs root to create its device nodes");
	j = check_root(dir, "kvm.device");
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_true(json_is_null(detail(j, "kvm.device", "udev_rule")));
	assert_non_null(strstr(advice(j, "kvm.device"), "No udev rule sets /dev/kvm's group or mode"));
	assert_true(has_fix(j, "kvm.device", "udev.kvm_permissions"));
	json_decref(j);

	put(dir, "/usr/lib/udev/rules.d/50-udev-default.rules",
	    "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\", OPTIONS+=\"static_node=kvm\"\n");
	j = check_root(dir, "kvm.device");
	assert_string_equal(check_status(j, "kvm.device"), "fail");
	assert_non_null(strstr(advice(j, "kvm.device"), "udevadm trigger"));
	assert_non_null(strstr(advice(j, "kvm.device"), "50-udev-default.rules:1"));
	json_decref(j);
	remove_tree(dir);
}

static void test_udev_live(void **state)
{
	struct result res = { 0 };
	struct stat st;
	json_t *j, *props;

	(void)state;
	if (stat("/dev/kvm", &st) < 0)
		SKIP_BECAUSE("no /dev/kvm on this host");
	RUN(&res, "--format", "json", "check", "kvm.device");
	j = parse_json(res.out);
	props = detail(j, "kvm.device", "udev_properties");
	assert_true(json_is_array(props));
	assert_true(list_has(props, "DEVNAME=/dev/kvm"));
	assert_true(list_has(props, "MAJOR=10"));
	assert_true(list_has(props, "MINOR=232"));
	assert_true(json_is_array(detail(j, "kvm.device", "udev_tags")));
	assert_true(json_is_boolean(detail(j, "kvm.device", "udev_initialized")));
	/* The rule files are this machine's: whatever they say is what we report. */
	if (access("/usr/lib/udev/rules.d/50-udev-default.rules", R_OK) == 0)
		assert_true(list_contains(detail(j, "kvm.device", "udev_rules"), "KERNEL==\"kvm\""));
	json_decref(j);
	result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gpu_host),
		cmocka_unit_test(test_vfio_bound),
		cmocka_unit_test(test_no_iommu),
		cmocka_unit_test(test_no_pci_ids),
		cmocka_unit_test(test_unreadable_device),
		cmocka_unit_test(test_no_pci_bus),
		cmocka_unit_test(test_vm_without_iommu),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_names_no_leak),
		cmocka_unit_test(test_udev_rule_offline),
		cmocka_unit_test(test_udev_rule_missing_or_pending),
		cmocka_unit_test(test_udev_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
