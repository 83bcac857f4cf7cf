/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure os-release(5) parsing. */
#ifndef VD_OSRELEASE_H
#define VD_OSRELEASE_H

struct os_release {
	char id[64];
	char id_like[128];
	char version_id[64];
	char pretty_name[128];
};

/* 0, or -EBADMSG when not a single KEY=VALUE line was found. */
int os_release_parse(const char *text, struct os_release *os);

/* Who this host is, for the report header and host.os. */
struct host;
struct host_identity {
	char hostname[256];
	char kernel_release[256];
	char arch[64];
	struct os_release os;
	int os_error;		/* 0, or -errno reading/parsing os-release */
	const char *os_path;	/* the os-release file tried last */
};
void host_identify(struct host *h, struct host_identity *id);

#endif
