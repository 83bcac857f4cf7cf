// SPDX-License-Identifier: GPL-2.0-or-later
/* libkmod through dlopen: its libcrypto, zstd, lzma and zlib load only when a module question is asked. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "checks/kmod_dl.h"
#include "util.h"

/*
 * Linked, libkmod and the compression and crypto libraries behind it cost every invocation
 * ~0.8 ms of loading and relocation before main(), though only kvm.modules, the net checks'
 * module lookups and the module fixes use it; and in a check run that was time spent before
 * the QEMU probe could start.
 */
static struct kmod_fns fns;
static char load_error[160];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
		{ "kmod_new", offsetof(struct kmod_fns, new_ctx) },
		{ "kmod_unref", offsetof(struct kmod_fns, unref) },
		{ "kmod_set_log_fn", offsetof(struct kmod_fns, set_log_fn) },
		{ "kmod_load_resources", offsetof(struct kmod_fns, load_resources) },
		{ "kmod_module_new_from_name", offsetof(struct kmod_fns, module_new_from_name) },
		{ "kmod_module_new_from_lookup", offsetof(struct kmod_fns, module_new_from_lookup) },
		{ "kmod_module_get_module", offsetof(struct kmod_fns, module_get_module) },
		{ "kmod_module_unref_list", offsetof(struct kmod_fns, module_unref_list) },
		{ "kmod_module_unref", offsetof(struct kmod_fns, module_unref) },
		{ "kmod_module_get_initstate", offsetof(struct kmod_fns, module_get_initstate) },
		{ "kmod_module_get_path", offsetof(struct kmod_fns, module_get_path) },
		{ "kmod_module_get_options", offsetof(struct kmod_fns, module_get_options) },
		{ "kmod_module_probe_insert_module", offsetof(struct kmod_fns, module_probe_insert_module) },
	};
	struct kmod_fns f;
	void *lib = dlopen(KMOD_SONAME, RTLD_LAZY | RTLD_LOCAL);

	if (!lib) {
		const char *e = dlerror();

		scopy(load_error, e ? e : KMOD_SONAME ": cannot load");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *sym = dlsym(lib, syms[i].name);

		if (!sym) {
			sfmt(load_error, "%s lacks %s", KMOD_SONAME, syms[i].name);
			return;
		}
		/* dlsym hands out data pointers; POSIX guarantees they convert to functions. */
		memcpy((char *)&f + syms[i].offset, &sym, sizeof(sym));
	}
	fns = f;
	load_error[0] = '\0';
}

const struct kmod_fns *kmod_fns(char *why, size_t size)
{
	pthread_once(&once, load);
	if (fns.new_ctx)
		return &fns;
	if (why && size)
		snprintf(why, size, "%s", load_error[0] ? load_error : KMOD_SONAME ": cannot load");
	return NULL;
}
