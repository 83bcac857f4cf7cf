/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libkmod, loaded on first use: the module checks and the module fixes call it through kmod_fn. */
#ifndef VD_KMOD_DL_H
#define VD_KMOD_DL_H

#include <libkmod.h>
#include <stddef.h>

#define KMOD_SONAME "libkmod.so.2"

/* The libkmod entry points virt-doctor uses, typed from libkmod.h. */
struct kmod_fns {
	__typeof__(kmod_new) *new_ctx;
	__typeof__(kmod_unref) *unref;
	__typeof__(kmod_set_log_fn) *set_log_fn;
	__typeof__(kmod_load_resources) *load_resources;
	__typeof__(kmod_module_new_from_name) *module_new_from_name;
	__typeof__(kmod_module_new_from_lookup) *module_new_from_lookup;
	__typeof__(kmod_module_get_module) *module_get_module;
	__typeof__(kmod_module_unref_list) *module_unref_list;
	__typeof__(kmod_module_unref) *module_unref;
	__typeof__(kmod_module_get_initstate) *module_get_initstate;
	__typeof__(kmod_module_get_path) *module_get_path;
	__typeof__(kmod_module_get_options) *module_get_options;
	__typeof__(kmod_module_probe_insert_module) *module_probe_insert_module;
};

/*
 * Load libkmod once (thread-safe). The table, or NULL with the reason in why (may be NULL)
 * when the library or one of its symbols is missing.
 */
const struct kmod_fns *kmod_fns(char *why, size_t size);

#endif
