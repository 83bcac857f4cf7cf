// SPDX-License-Identifier: GPL-2.0-or-later
/* The probe cache (src/cache.c) and cpu.guest_model: cold/warm, invalidation, hostile entries. */
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <cmocka.h>

#include "cache.h"
#include "harness.h"
#include "host.h"

/* ---- the cache API against a private directory ---- */

static char api_dir[] = "/tmp/vd-cache-api.XXXXXX";

static int api_setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(api_dir));
	setenv("VIRT_DOCTOR_CACHE_DIR", api_dir, 1);
	return 0;
}

static int api_teardown(void **state)
{
	(void)state;
	remove_tree(api_dir);
	return 0;
}

static void entry_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s.cache", api_dir, name);
}

/* Store, then load the same key: the payload comes back; another key misses. */
static void test_api_roundtrip(void **state)
{
	char *payload = NULL, why[200], path[600];
	struct stat st;

	(void)state;
	assert_int_equal(cache_store("t-round", "k1 a=b", "out=hello\nx=\n"), 0);
	assert_int_equal(cache_load("t-round", "k1 a=b", &payload, why, sizeof(why)), 1);
	assert_string_equal(payload, "out=hello\nx=\n");
	free(payload);
	assert_int_equal(cache_load("t-round", "k1 a=c", &payload, why, sizeof(why)), 0);
	assert_null(payload);
	assert_string_equal(why, "key changed");
	assert_int_equal(cache_load("t-none", "k1", &payload, why, sizeof(why)), 0);
	assert_string_equal(why, "no entry");
	entry_path(path, sizeof(path), "t-round");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, geteuid() == 0 ? 0644 : 0600);
	/* payloads that are not ours are refused at store time */
	assert_int_equal(cache_store("t-bad", "k", "no equals sign\n"), -EINVAL);
	assert_int_equal(cache_store("../escape", "k", "a=b\n"), -EINVAL);
	assert_int_equal(cache_store("t-bad", "k\nkey x", "a=b\n"), -EINVAL);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void expect_refused(const char *name, const char *key, const char *words)
{
	char *payload = NULL, why[200] = "";

	assert_int_equal(cache_load(name, key, &payload, why, sizeof(why)), 0);
	assert_null(payload);
	printf("%s: %s\n", name, why);
	assert_non_null(strstr(why, words));
}

/* Torn and hostile entries are misses that say why, never a crash, a hang or a hit. */
static void test_api_hostile(void **state)
{
	static const char good[] = "virt-doctor-cache 1\nkey K\nout=v\n";
	char path[600], *big;
	uid_t nobody = 65534;

	(void)state;
	/* truncated: the last line lost its end */
	entry_path(path, sizeof(path), "t-torn");
	write_file(path, good, sizeof(good) - 2);
	expect_refused("t-torn", "K", "malformed or truncated");
	/* truncated inside the header */
	write_file(path, good, 10);
	expect_refused("t-torn", "K", "not a virt-doctor cache entry");
	/* a control character in a value */
	write_file(path, "virt-doctor-cache 1\nkey K\nout=\033[2J\n", 34);
	expect_refused("t-torn", "K", "malformed");
	/* a NUL byte */
	write_file(path, "virt-doctor-cache 1\nkey K\nout=a\0b\n", 34);
	expect_refused("t-torn", "K", "not a virt-doctor cache entry");
	/* huge: bigger than any entry we write */
	entry_path(path, sizeof(path), "t-huge");
	big = malloc(CACHE_ENTRY_MAX + 4096);
	assert_non_null(big);
	memset(big, 'a', CACHE_ENTRY_MAX + 4096);
	memcpy(big, good, sizeof(good) - 1);
	big[CACHE_ENTRY_MAX + 4095] = '\n';
	write_file(path, big, CACHE_ENTRY_MAX + 4096);
	free(big);
	expect_refused("t-huge", "K", "larger than");
	/* a symlink to a good entry elsewhere */
	entry_path(path, sizeof(path), "t-good");
	write_file(path, good, sizeof(good) - 1);
	{
		char link[600];
		char *payload = NULL, why[200];

		assert_int_equal(cache_load("t-good", "K", &payload, why, sizeof(why)), 1);
		free(payload);
		entry_path(link, sizeof(link), "t-link");
		assert_int_equal(symlink(path, link), 0);
		expect_refused("t-link", "K", "not a regular file");
	}
	/* a FIFO: must not block the run */
	entry_path(path, sizeof(path), "t-fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_refused("t-fifo", "K", "not a regular file");
	/* writable by others */
	entry_path(path, sizeof(path), "t-mode");
	write_file(path, good, sizeof(good) - 1);
	assert_int_equal(chmod(path, 0666), 0);
	expect_refused("t-mode", "K", "writable by others");
	/* someone else's */
	if (geteuid() == 0) {
		entry_path(path, sizeof(path), "t-owner");
		write_file(path, good, sizeof(good) - 1);
		assert_int_equal(chown(path, nobody, nobody), 0);
		expect_refused("t-owner", "K", "owned by uid 65534");
		/* a device node: looked at, never opened */
		entry_path(path, sizeof(path), "t-dev");
		assert_int_equal(mknod(path, S_IFCHR | 0600, makedev(1, 3)), 0);
		expect_refused("t-dev", "K", "not a regular file");
	} else {
		printf("SKIP: the wrong-owner and device-node entries need root\n");
	}
	/* a cache directory others may write to is not used at all */
	assert_int_equal(chmod(api_dir, 0777), 0);
	expect_refused("t-good", "K", "not a directory private");
	assert_int_equal(cache_store("t-good", "K", "out=v\n"), -EPERM);
	assert_int_equal(chmod(api_dir, 0700), 0);
}

/* The key names the binary's identity, /dev/kvm, the kernel and our version. */
static void test_api_key(void **state)
{
	struct host h;
	char key[CACHE_KEY_MAX], key2[CACHE_KEY_MAX], path[600];
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	(void)state;
	assert_int_equal(host_init(&h, "/"), 0);
	entry_path(path, sizeof(path), "bin");
	write_file(path, "#!/bin/sh\n", 10);
	assert_int_equal(cache_key(&h, path, key, sizeof(key)), 0);
	assert_non_null(strstr(key, "version="));
	assert_non_null(strstr(key, " kernel="));
	assert_non_null(strstr(key, " kvm="));
	assert_null(strchr(key, '\n'));
	assert_int_equal(cache_key(&h, path, key2, sizeof(key2)), 0);
	assert_string_equal(key, key2);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(cache_key(&h, path, key2, sizeof(key2)), 0);
	assert_string_not_equal(key, key2);
	assert_int_equal(cache_key(&h, "/nonexistent/qemu", key2, sizeof(key2)), -ENOENT);
	host_fini(&h);
}

/* ---- end to end: emulator.qemu's --version probes ---- */

/* A fake emulator that logs each run, and prints a version. */
static void make_fake(const char *dir, char *path, size_t size, const char *log)
{
	struct utsname u;
	FILE *f;

	uname(&u);
	snprintf(path, size, "%s/qemu-system-%s", dir, u.machine);
	f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho run >> '%s'\necho 'QEMU emulator version 7.2.99 (fake)'\n", log);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static unsigned runs_logged(const char *log)
{
	_cleanup_free_ char *text = slurp(log);
	unsigned n = 0;

	for (const char *p = text; p && (p = strstr(p, "run\n")); p += 4)
		n++;
	return n;
}

static json_t *emu_check(const char *dir, const char *cache, const char *extra)
{
	char env_path[400], env_cache[400];
	struct result res = { 0 };
	json_t *j;

	sfmt(env_path, "PATH=%s:/usr/bin:/bin", dir);
	sfmt(env_cache, "VIRT_DOCTOR_CACHE_DIR=%s", cache);
	if (extra)
		RUN_ENV(&res, ((char *const[]){ env_path, env_cache, NULL }), "--format", "json",
			(char *)extra, "check", "emulator.qemu");
	else
		RUN_ENV(&res, ((char *const[]){ env_path, env_cache, NULL }), "--format", "json",
			"check", "emulator.qemu");
	j = parse_json(res.out);
	result_clear(&res);
	return j;
}

static bool dir_empty_or_missing(const char *dir)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return true;
	while ((e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			return false;
	return true;
}

/* Cold probes and writes, warm runs no QEMU at all, a touched binary probes again. */
static void test_emulator_cold_warm(void **state)
{
	char dir[] = "/tmp/vd-cache-e2e.XXXXXX", cache[300], fake[300], log[300];
	struct timespec ts[2] = { { 1500000000, 0 }, { 1500000000, 0 } };
	json_t *j;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(cache, "%s/cache", dir);
	sfmt(log, "%s/log", dir);
	make_fake(dir, fake, sizeof(fake), log);

	j = emu_check(dir, cache, NULL);
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "emulator")), fake);
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "version")), "7.2.99");
	assert_false(json_is_true(detail(j, "emulator.qemu", "cached")));
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "cache_miss")), "no entry");
	json_decref(j);
	assert_int_equal(runs_logged(log), 1);
	assert_false(dir_empty_or_missing(cache));

	j = emu_check(dir, cache, NULL);
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "version")), "7.2.99");
	if (json_is_true(detail(j, "emulator.qemu", "cached")) == false)
		fail_msg("warm run missed: %s", json_string_value(detail(j, "emulator.qemu", "cache_miss")));
	json_decref(j);
	assert_int_equal(runs_logged(log), 1);	/* warm: the fake did not run */

	/* --no-cache: probes, reads nothing, writes nothing */
	j = emu_check(dir, cache, "--no-cache");
	assert_false(json_is_true(detail(j, "emulator.qemu", "cached")));
	assert_non_null(strstr(json_string_value(detail(j, "emulator.qemu", "cache_miss")), "--no-cache"));
	json_decref(j);
	assert_int_equal(runs_logged(log), 2);

	/* the binary's mtime (and so its ctime) changes: the entry no longer applies */
	assert_int_equal(utimensat(AT_FDCWD, fake, ts, 0), 0);
	j = emu_check(dir, cache, NULL);
	assert_false(json_is_true(detail(j, "emulator.qemu", "cached")));
	assert_string_equal(json_string_value(detail(j, "emulator.qemu", "cache_miss")), "key changed");
	json_decref(j);
	assert_int_equal(runs_logged(log), 3);
	remove_tree(dir);
}

/* --no-cache on a cold cache and --root never create or write anything. */
static void test_no_write(void **state)
{
	char dir[] = "/tmp/vd-cache-nowrite.XXXXXX", cache[300], fake[300], log[300], env_cache[400];
	struct result res = { 0 };
	json_t *j;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sfmt(cache, "%s/cache", dir);
	sfmt(log, "%s/log", dir);
	make_fake(dir, fake, sizeof(fake), log);
	j = emu_check(dir, cache, "--no-cache");
	json_decref(j);
	assert_int_equal(runs_logged(log), 1);
	assert_true(dir_empty_or_missing(cache));

	sfmt(env_cache, "VIRT_DOCTOR_CACHE_DIR=%s", cache);
	RUN_ENV(&res, ((char *const[]){ env_cache, NULL }), "--root", dir, "--format", "json", "check");
	j = parse_json(res.out);
	assert_string_equal(check_status(j, "cpu.guest_model"), "skip");
	json_decref(j);
	result_clear(&res);
	assert_true(dir_empty_or_missing(cache));
	remove_tree(dir);
}

/* ---- cpu.guest_model on this host, and with a QEMU whose -cpu host fails ---- */

static bool devices_mention(json_t *list, const char *word);

static bool kvm_x86_or_skip(void)
{
	struct utsname u;

	uname(&u);
	if (!streq(u.machine, "x86_64") || access("/usr/bin/qemu-system-x86_64", X_OK) < 0 ||
	    access("/dev/kvm", R_OK | W_OK) < 0) {
		printf("SKIP: needs x86_64, /usr/bin/qemu-system-x86_64 and a usable /dev/kvm\n");
		return false;
	}
	return true;
}

static bool cpuinfo_has_flag(const char *flag)
{
	_cleanup_free_ char *text = slurp("/proc/cpuinfo");
	const char *p = text ? strstr(text, "\nflags") : NULL;
	char line[8192];

	if (!p)
		return false;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p + 1, "\n"), p + 1);
	return words_contain(strchr(line, ':') ? strchr(line, ':') + 1 : line, flag);
}

static json_t *gm_check(char *const env[], const char *extra)
{
	struct result res = { 0 };
	json_t *j;

	if (extra)
		RUN_ENV(&res, env, "--format", "json", (char *)extra, "check", "cpu.guest_model");
	else
		RUN_ENV(&res, env, "--format", "json", "check", "cpu.guest_model");
	j = parse_json(res.out);
	result_clear(&res);
	return j;
}

/*
 * The real QEMU here. The oracle for host-passthrough is QEMU itself with -cpu host; for
 * qemu64, libvirt's rule: its cpu_map requires svm, so an Intel host refuses it.
 */
static void test_guest_model_live(void **state)
{
	struct result q = { 0 };
	const char *hp, *adv;
	char hp_seen[16];
	json_t *j, *w;

	(void)state;
	if (!kvm_x86_or_skip())
		skip();
	run_env(&q, NULL, (char *const[]){ (char *)"/usr/bin/timeout", (char *)"5",
		(char *)"/usr/bin/qemu-system-x86_64", (char *)"-machine", (char *)"q35,accel=kvm",
		(char *)"-cpu", (char *)"host", (char *)"-m", (char *)"64", (char *)"-smp", (char *)"1",
		(char *)"-nodefaults", (char *)"-no-user-config", (char *)"-display", (char *)"none",
		(char *)"-S", (char *)"-qmp", (char *)"stdio", NULL });	/* stdin is empty: QMP EOF quits */
	j = gm_check(NULL, "--no-cache");
	hp = json_string_value(detail(j, "cpu.guest_model", "host_passthrough"));
	adv = json_string_value(detail(j, "cpu.guest_model", "advised_virt_install"));
	printf("cpu.guest_model: %s; -cpu host by hand exited %d\n", json_string_value(json_object_get(
	       find_check(j, "cpu.guest_model"), "summary")), q.status);
	assert_non_null(hp);
	scopy(hp_seen, hp);
	/* 124: still running after 5 s, so KVM took it (stdin stays open: QMP waits) */
	assert_string_equal(hp, q.status == 0 || q.status == 124 ? "ok" : "fails");
	assert_string_equal(check_status(j, "cpu.guest_model"), streq(hp, "ok") ? "pass" : "warn");
	assert_non_null(adv);
	assert_true(startswith(adv, "virt-install --cpu "));
	if (access("/usr/share/libvirt/cpu_map/x86_qemu64.xml", R_OK) == 0 && !cpuinfo_has_flag("svm")) {
		assert_true(list_has(detail(j, "cpu.guest_model", "unusable_models"), "qemu64"));
		assert_true(list_has(detail(j, "cpu.guest_model", "model_blockers"),
				     "qemu64: Host CPU does not provide required features: svm"));
	}
	result_clear(&q);
	json_decref(j);

	/* warm: the same answer, from the cache */
	json_decref(gm_check(NULL, NULL));
	w = gm_check(NULL, NULL);
	assert_true(json_is_true(detail(w, "cpu.guest_model", "cached")));
	assert_string_equal(json_string_value(detail(w, "cpu.guest_model", "host_passthrough")), hp_seen);
	json_decref(w);
}

/*
 * libvirt's capability cache, where libvirtd left one for this QEMU and we may read it: the
 * check names the file and quotes each fallback's usable flag from it.
 */
static void test_guest_model_libvirt_cache(void **state)
{
	static const char dir[] = "/var/cache/libvirt/qemu/capabilities";
	char path[600] = "", want[64];
	struct dirent *e;
	json_t *j;
	DIR *d;

	(void)state;
	if (!kvm_x86_or_skip())
		skip();
	d = opendir(dir);	/* closed before any skip: skip() longjmps past cleanups */
	while (d && (e = readdir(d))) {
		char p[600];
		_cleanup_free_ char *text = NULL;

		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		text = strstr(e->d_name, ".xml") ? slurp(p) : NULL;
		if (text && strstr(text, "<emulator>/usr/bin/qemu-system-x86_64</emulator>"))
			scopy(path, p);
	}
	if (d)
		closedir(d);
	j = gm_check(NULL, NULL);
	if (!path[0]) {
		assert_true(json_is_null(detail(j, "cpu.guest_model", "libvirt_cache")));
		json_decref(j);
		SKIP_BECAUSE("no readable libvirt capability cache for /usr/bin/qemu-system-x86_64 now");
	}
	assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "libvirt_cache")), path);
	{
		_cleanup_free_ char *text = slurp(path);
		const char *p = strstr(text, "<cpu type='kvm' name='kvm64' ");

		if (p) {
			const char *u = strstr(p, "usable='");

			assert_non_null(u);
			sfmt(want, "kvm64: usable=%.*s", (int)strcspn(u + 8, "'"), u + 8);
			assert_true(devices_mention(detail(j, "cpu.guest_model", "libvirt_cache_models"), want));
		}
	}
	json_decref(j);
}

/*
 * A QEMU that behaves as this hosts do: -cpu host dies with the MSR error, all else
 * is the real QEMU. The check must warn, quote the error and advise the model that works.
 */
static void test_guest_model_msr_failure(void **state)
{
	char dir[] = "/tmp/vd-gm-msr.XXXXXX", path[300], env_path[400];
	const char *err;
	json_t *j;
	FILE *f;

	(void)state;
	if (!kvm_x86_or_skip())
		skip();
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/qemu-system-x86_64", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("#!/bin/sh\n"
	      "case \" $* \" in *' -cpu host '*)\n"
	      "  echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69' >&2; exit 1;;\n"
	      "esac\n"
	      "exec /usr/bin/qemu-system-x86_64 \"$@\"\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	sfmt(env_path, "PATH=%s:/usr/bin:/bin", dir);
	j = gm_check((char *const[]){ env_path, NULL }, NULL);
	assert_string_equal(check_status(j, "cpu.guest_model"), "warn");
	assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "emulator")), path);
	assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "host_passthrough")), "fails");
	err = json_string_value(detail(j, "cpu.guest_model", "host_passthrough_error"));
	assert_non_null(err);
	assert_string_equal(err, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69");
	assert_non_null(strstr(json_string_value(json_object_get(find_check(j, "cpu.guest_model"),
				"summary")), "failed to set MSR 0x10a"));
	assert_true(list_has(detail(j, "cpu.guest_model", "usable_models"), "kvm64"));
	assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "advised_model")), "kvm64");
	assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "advised_virt_install")),
			    "virt-install --cpu kvm64");
	assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "advised_xml")),
			    "<cpu mode='custom' match='exact'><model fallback='forbid'>kvm64</model></cpu>");
	json_decref(j);
	remove_tree(dir);
}

/* A -cpu host that never answers: killed at the bound, reported, and not cached. */
static void test_guest_model_timeout_not_cached(void **state)
{
	char dir[] = "/tmp/vd-gm-hang.XXXXXX", path[300], env_path[400];
	uint64_t t0;
	json_t *j;
	FILE *f;

	(void)state;
	if (!kvm_x86_or_skip())
		skip();
	assert_non_null(mkdtemp(dir));
	sfmt(path, "%s/qemu-system-x86_64", dir);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs("#!/bin/sh\n"
	      "case \" $* \" in *' -cpu host '*) exec sleep 27.1828;; esac\n"
	      "exec /usr/bin/qemu-system-x86_64 \"$@\"\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	sfmt(env_path, "PATH=%s:/usr/bin:/bin", dir);
	for (int run = 0; run < 2; run++) {
		t0 = now_us();
		j = gm_check((char *const[]){ env_path, NULL }, NULL);
		assert_true(now_us() - t0 < 9000000);	/* 5 s bound plus start-up */
		assert_string_equal(json_string_value(detail(j, "cpu.guest_model", "host_passthrough")),
				    "fails");
		assert_non_null(strstr(json_string_value(detail(j, "cpu.guest_model",
				"host_passthrough_error")), "killed"));
		assert_false(json_is_true(detail(j, "cpu.guest_model", "cached")));
		json_decref(j);
	}
	{
		struct result ps = { 0 };

		run_env(&ps, NULL, (char *const[]){ (char *)"/usr/bin/pgrep", (char *)"-f", (char *)"27.1828",
			NULL });
		assert_int_not_equal(ps.status, 0);	/* nothing left running */
		result_clear(&ps);
	}
	remove_tree(dir);
}

/* Without access to /dev/kvm no CPU model can start: skip, naming the check that says why. */
static void test_guest_model_no_kvm(void **state)
{
	struct result res = { 0 };
	const char *s;
	json_t *j;

	(void)state;
	if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) < 0 ||
	    access("/usr/bin/qemu-system-x86_64", X_OK) < 0)
		SKIP_BECAUSE("needs root, setpriv and QEMU to run as nobody");
	RUN_NOBODY(&res, "--no-cache", "--format", "json", "check", "cpu.guest_model");
	j = parse_json(res.out);
	s = json_string_value(json_object_get(find_check(j, "cpu.guest_model"), "summary"));
	printf("as nobody: %s\n", s);
	assert_string_equal(check_status(j, "cpu.guest_model"), "skip");
	assert_non_null(strstr(s, "kvm.device"));
	assert_non_null(strstr(s, "KVM"));
	json_decref(j);
	result_clear(&res);
}

/* ---- iommu.groups: PCI names from the cache instead of parsing all of pci.ids ---- */

static bool devices_mention(json_t *list, const char *word)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_string_value(v) && strstr(json_string_value(v), word))
			return true;
	return false;
}

/*
 * Cold, the names come from pci.ids and are kept; warm, from the entry (proved by planting a
 * name under the right key that pci.ids does not have), and the report is the same.
 */
static void test_pci_names(void **state)
{
	static const char ids[] = "/usr/share/misc/pci.ids";
	char dir[] = "/tmp/vd-cache-pci.XXXXXX", env_cache[300], key[CACHE_KEY_MAX], path[400];
	char *payload = NULL, why[200], *bar, *planted = NULL;
	struct result a = { 0 }, b = { 0 };
	json_t *ja, *jb, *ca, *cb;
	struct host h;

	(void)state;
	if (access(ids, R_OK) < 0 || access("/etc/udev/hwdb.bin", F_OK) == 0 ||
	    access("/usr/lib/udev/hwdb.bin", F_OK) == 0)
		SKIP_BECAUSE("names come from %s only without a udev hwdb", ids);
	assert_non_null(mkdtemp(dir));
	sfmt(env_cache, "VIRT_DOCTOR_CACHE_DIR=%s", dir);
	RUN_ENV(&a, ((char *const[]){ env_cache, NULL }), "--format", "json", "check", "iommu.groups");
	ja = parse_json(a.out);
	if (!json_array_size(detail(ja, "iommu.groups", "devices"))) {
		json_decref(ja);
		result_clear(&a);
		remove_tree(dir);
		SKIP_BECAUSE("no PCI endpoints here to name");
	}
	sfmt(path, "%s/pci-names.cache", dir);
	assert_int_equal(access(path, F_OK), 0);
	RUN_ENV(&b, ((char *const[]){ env_cache, NULL }), "--format", "json", "check", "iommu.groups");
	jb = parse_json(b.out);
	ca = json_deep_copy(find_check(ja, "iommu.groups"));
	cb = json_deep_copy(find_check(jb, "iommu.groups"));
	json_object_del(ca, "duration_us");
	json_object_del(cb, "duration_us");
	assert_true(json_equal(ca, cb));
	json_decref(ca);
	json_decref(cb);

	/* every device gets a planted name under the real key (bridges are not listed) */
	setenv("VIRT_DOCTOR_CACHE_DIR", dir, 1);
	assert_int_equal(host_init(&h, "/"), 0);
	assert_int_equal(cache_key(&h, ids, key, sizeof(key)), 0);
	host_fini(&h);
	assert_int_equal(cache_load("pci-names", key, &payload, why, sizeof(why)), 1);
	{
		FILE *f;
		size_t len = 0;

		f = open_memstream(&planted, &len);
		assert_non_null(f);
		for (char *line = strtok(payload, "\n"); line; line = strtok(NULL, "\n")) {
			bar = strrchr(line, '|');
			assert_non_null(bar);
			fprintf(f, "%.*s|Planted Vendor Planted Device\n", (int)(bar - line), line);
		}
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(cache_store("pci-names", key, planted), 0);
	result_clear(&b);
	json_decref(jb);
	RUN_ENV(&b, ((char *const[]){ env_cache, NULL }), "--format", "json", "check", "iommu.groups");
	jb = parse_json(b.out);
	assert_true(devices_mention(detail(jb, "iommu.groups", "devices"), "Planted Vendor Planted Device"));
	assert_false(devices_mention(detail(ja, "iommu.groups", "devices"), "Planted"));
	free(payload);
	free(planted);
	json_decref(ja);
	json_decref(jb);
	result_clear(&a);
	result_clear(&b);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest api[] = {
		cmocka_unit_test(test_api_roundtrip),
		cmocka_unit_test(test_api_hostile),
		cmocka_unit_test(test_api_key),
	};
	const struct CMUnitTest e2e[] = {
		cmocka_unit_test(test_emulator_cold_warm),
		cmocka_unit_test(test_no_write),
		cmocka_unit_test(test_guest_model_live),
		cmocka_unit_test(test_guest_model_libvirt_cache),
		cmocka_unit_test(test_guest_model_msr_failure),
		cmocka_unit_test(test_guest_model_no_kvm),
		cmocka_unit_test(test_guest_model_timeout_not_cached),
		cmocka_unit_test(test_pci_names),
	};

	return cmocka_run_group_tests_name("cache api", api, api_setup, api_teardown) |
	       cmocka_run_group_tests_name("cache e2e", e2e, NULL, NULL);
}
