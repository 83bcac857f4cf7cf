// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz target: sysfs/procfs values, through host_read()/host_read_line() of a real file in a
 * scratch --root and the pure value parsers (initstate, bool parameters, first line). */
// seeds: tests/fixtures/roots/*/sys/module/*/initstate tests/fixtures/roots/*/sys/module/*/parameters/* tests/fixtures/roots/*/proc/sys/kernel/*
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "checks/sysfs_value.h"
#include "fuzz.h"
#include "host.h"
#include "util.h"

static const char *const dirs[] = { "/sys", "/sys/module", "/sys/module/kvm",
				    "/sys/module/kvm/parameters" };
static char root[256];
static struct host host;

static void cleanup(void)
{
	char p[512];

	host_fini(&host);
	sfmt(p, "%s/sys/module/kvm/parameters/nested", root);
	unlink(p);
	for (size_t i = ARRAY_SIZE(dirs); i-- > 0; ) {
		sfmt(p, "%s%s", root, dirs[i]);
		rmdir(p);
	}
	rmdir(root);
}

static void setup(void)
{
	char p[512];

	if (root[0])
		return;
	/* fuzz/run.sh points TMPDIR into build-fuzz/ and removes it: libFuzzer's exit at
	 * -max_total_time skips atexit handlers. */
	if (snprintf(root, sizeof(root), "%s/vd-fuzz-sysfs-XXXXXX", getenv("TMPDIR") ?: "/tmp") >= (int)sizeof(root))
		abort();
	if (!mkdtemp(root))
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		sfmt(p, "%s%s", root, dirs[i]);
		if (mkdir(p, 0755) < 0)
			abort();
	}
	if (host_init(&host, root) < 0)
		abort();
	atexit(cleanup);
}

FUZZ_TARGET(sysfs)
{
	const char *path = "/sys/module/kvm/parameters/nested";
	char file[512], line[16], big[4096], *text = fuzz_text(data, size), *buf = NULL;
	size_t len = 0;
	int fd, r;

	setup();
	/* The pure parsers, straight on the input. */
	r = first_line(text, line, sizeof(line));
	FUZZ_ASSERT(r == 0 || r == -ENAMETOOLONG);
	if (r == 0) {
		FUZZ_ASSERT(strlen(line) < sizeof(line));
		FUZZ_ASSERT(sysfs_parse_initstate(line) <= INITSTATE_OTHER);
		r = sysfs_parse_bool(line);
		FUZZ_ASSERT(r == 0 || r == 1 || r == -EINVAL);
	}

	/* The same bytes as a file in the root, read the way the checks read sysfs. */
	sfmt(file, "%s%s", root, path);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	r = host_read_line(&host, path, line, sizeof(line));
	FUZZ_ASSERT(r == 0 || r == -ENAMETOOLONG || r == -EILSEQ);
	if (r == 0)
		sysfs_parse_bool(line);
	r = host_read_line(&host, path, big, sizeof(big));
	FUZZ_ASSERT(r == 0 || r == -ENAMETOOLONG || r == -EILSEQ || r == -EFBIG);
	r = host_read(&host, path, 64, &buf, &len);
	FUZZ_ASSERT(r == 0 || r == -EFBIG || r == -EILSEQ);
	if (r == 0) {
		FUZZ_ASSERT(len == size && len <= 64 && buf[len] == '\0');
		FUZZ_ASSERT(memcmp(buf, data, size) == 0);
	} else if (r == -EFBIG) {
		FUZZ_ASSERT(size > 64);
	} else {
		FUZZ_ASSERT(memchr(data, '\0', size));
	}
	free(buf);
	free(text);
	return 0;
}
