// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The intrinsic cost of libvirt.daemon's question, for `make bench`: what its child does, alone.
 *   libvirt-probe load   dlopen(libvirt.so.0) the way the doctor's child does, and exit
 *   libvirt-probe ask    also open qemu:///system read-only, ask the version and the default
 *                        network, close (the doctor's conversation; needs a running daemon)
 * Exit 0 when it got that far, 1 otherwise.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void *(*open_fn)(const char *uri);
typedef int (*close_fn)(void *conn);
typedef int (*version_fn)(void *conn, unsigned long *v);
typedef void *(*net_lookup_fn)(void *conn, const char *name);
typedef int (*net_fn)(void *net);
typedef void (*set_error_fn)(void *data, void (*fn)(void *data, void *err));

static void quiet(void *data, void *err)
{
	(void)data;
	(void)err;
}

static void *sym(void *lib, const char *name)
{
	void *p = dlsym(lib, name);

	if (!p)
		fprintf(stderr, "libvirt-probe: libvirt.so.0 lacks %s\n", name);
	return p;
}

int main(int argc, char **argv)
{
	void *lib = dlopen("libvirt.so.0", RTLD_LAZY | RTLD_LOCAL);
	void *p[7], *conn, *net;
	unsigned long v = 0;

	if (!lib) {
		fprintf(stderr, "libvirt-probe: %s\n", dlerror());
		return 1;
	}
	if (argc < 2 || strcmp(argv[1], "ask") != 0)
		return sym(lib, "virConnectOpenReadOnly") ? 0 : 1;

	p[0] = sym(lib, "virConnectOpenReadOnly");
	p[1] = sym(lib, "virConnectClose");
	p[2] = sym(lib, "virConnectGetVersion");
	p[3] = sym(lib, "virNetworkLookupByName");
	p[4] = sym(lib, "virNetworkIsActive");
	p[5] = sym(lib, "virSetErrorFunc");
	p[6] = sym(lib, "virNetworkFree");
	for (int i = 0; i < 7; i++)
		if (!p[i])
			return 1;
	/* dlsym gives data pointers; POSIX guarantees they convert to function pointers. */
	((set_error_fn)p[5])(NULL, quiet);
	conn = ((open_fn)p[0])("qemu:///system");
	if (!conn)
		return 1;
	((version_fn)p[2])(conn, &v);
	net = ((net_lookup_fn)p[3])(conn, "default");
	if (net) {
		((net_fn)p[4])(net);
		((net_fn)p[6])(net);
	}
	((close_fn)p[1])(conn);
	return 0;
}
