// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt network XML (definitions and status files), read with libxml2. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>

#include "checks/net.h"
#include "util.h"

/*
 * libxml2 is loaded on the first parse, not at start-up: with the ICU and libstdc++ it
 * pulls in it costs ~0.9 ms and ~100 page faults, which `list`, `explain`, `boot` and
 * `fleet` never need, and which a check run now pays after QEMU's probe has started, not
 * before. The headers still give the types (xmlNode's fields are read directly).
 */
#define XML_SONAME "libxml2.so.2"

static struct {
	__typeof__(xmlReadMemory) *read_memory;
	__typeof__(xmlFreeDoc) *free_doc;
	__typeof__(xmlDocGetRootElement) *root;
	__typeof__(xmlStrEqual) *str_equal;
	__typeof__(xmlGetProp) *get_prop;
	__typeof__(xmlGetLastError) *last_error;
	__typeof__(xmlResetLastError) *reset_error;
	/*
	 * xmlFree: a libxml2 built with per-thread allocators (LIBXML_THREAD_ALLOC_ENABLED)
	 * keeps it behind __xmlFree(); otherwise (Debian, Fedora) it is an exported variable.
	 */
	xmlFreeFunc *(*free_getter)(void);
	xmlFreeFunc *free_var;
	char error[160];	/* why loading failed; "" when loaded */
} xml;

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_load(void)
{
	static const struct {
		const char *name;
		void **slot;
	} syms[] = {
		{ "xmlReadMemory", (void **)&xml.read_memory },
		{ "xmlFreeDoc", (void **)&xml.free_doc },
		{ "xmlDocGetRootElement", (void **)&xml.root },
		{ "xmlStrEqual", (void **)&xml.str_equal },
		{ "xmlGetProp", (void **)&xml.get_prop },
		{ "xmlGetLastError", (void **)&xml.last_error },
		{ "xmlResetLastError", (void **)&xml.reset_error },
	};
	void *lib = dlopen(XML_SONAME, RTLD_LAZY | RTLD_LOCAL);

	if (!lib) {
		const char *e = dlerror();

		scopy(xml.error, e ? e : XML_SONAME ": cannot load");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		/* dlsym hands out data pointers; POSIX guarantees they convert to functions. */
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			sfmt(xml.error, "%s lacks %s", XML_SONAME, syms[i].name);
			return;	/* stays loaded: unloading a library with ICU behind it is not safe */
		}
	}
	xml.free_getter = (xmlFreeFunc *(*)(void))dlsym(lib, "__xmlFree");
	xml.free_var = xml.free_getter ? NULL : (xmlFreeFunc *)dlsym(lib, "xmlFree");
	if (!xml.free_getter && !xml.free_var) {
		sfmt(xml.error, "%s lacks xmlFree", XML_SONAME);
		return;
	}
	xml.error[0] = '\0';
}

static int xml_api(void)
{
	pthread_once(&xml_once, xml_load);
	return xml.error[0] ? -ELIBACC : 0;
}

static void xml_docp(xmlDoc **d)
{
	if (*d)
		xml.free_doc(*d);
}

static void xml_freep(xmlChar **s)
{
	if (*s)
		(*(xml.free_getter ? xml.free_getter() : xml.free_var))(*s);
}

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xml.str_equal(n->name, (const xmlChar *)name);
}

static xmlNode *child(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

/* Copy attribute name of node into buf ("" when missing). */
static void attr(xmlNode *node, const char *name, char *buf, size_t size)
{
	_cleanup_(xml_freep) xmlChar *v = node ? xml.get_prop(node, (const xmlChar *)name) : NULL;

	strtcpy(buf, v ? (const char *)v : "", size);
}

/*
 * The element's own text, from its text and CDATA children only, into buf (cut at size).
 * xmlNodeGetContent() would also expand every entity reference below it, which is how
 * 100,000 references to one 600 KB entity asked for gigabytes.
 */
static void element_text(xmlNode *node, char *buf, size_t size)
{
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	for (xmlNode *t = node ? node->children : NULL; t && n + 1 < size; t = t->next) {
		if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) || !t->content)
			continue;
		strtcpy(buf + n, (const char *)t->content, size - n);
		n += strlen(buf + n);
	}
	if (size) {
		char *t = strstrip(buf);	/* returns past leading blanks */

		memmove(buf, t, strlen(t) + 1);
	}
}

int netmask_to_prefix(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	m = ntohl(a.s_addr);
	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return m ? -1 : n;	/* bits left after the first zero: not a mask */
}

/* The first IPv4 <ip>: libvirt allows one IPv4 and several IPv6 ranges per network. */
static void parse_ip(xmlNode *net, struct libvirt_network *n)
{
	char family[16], mask[64], prefix[16];

	n->prefix = -1;
	for (xmlNode *ip = net->children; ip; ip = ip->next) {
		xmlNode *range;

		if (!is_elem(ip, "ip"))
			continue;
		attr(ip, "family", family, sizeof(family));
		attr(ip, "address", n->address, sizeof(n->address));
		if (streq(family, "ipv6") || strchr(n->address, ':')) {
			n->address[0] = '\0';
			continue;
		}
		attr(ip, "prefix", prefix, sizeof(prefix));
		attr(ip, "netmask", mask, sizeof(mask));
		if (prefix[0]) {
			char *end;
			long p = strtol(prefix, &end, 10);

			n->prefix = (*end || p < 0 || p > 32) ? -1 : (int)p;
		} else if (mask[0]) {
			n->prefix = netmask_to_prefix(mask);
		} else if (n->address[0]) {
			/* libvirt derives the classful prefix; every default network states it. */
			n->prefix = 24;
		}
		range = child(child(ip, "dhcp"), "range");
		attr(range, "start", n->dhcp_start, sizeof(n->dhcp_start));
		attr(range, "end", n->dhcp_end, sizeof(n->dhcp_end));
		return;
	}
}

int libvirt_network_parse(const char *text, size_t len, struct libvirt_network *n,
			  char *why, size_t why_size)
{
	_cleanup_(xml_docp) xmlDoc *doc = NULL;
	xmlNode *root, *net, *fwd;

	memset(n, 0, sizeof(*n));
	n->prefix = -1;
	if (why_size)
		why[0] = '\0';
	if (len > LIBVIRT_XML_MAX) {
		snprintf(why, why_size, "larger than %u KiB (libvirt's network XML is a few hundred bytes)",
			 LIBVIRT_XML_MAX >> 10);
		return -EFBIG;
	}
	if (xml_api() < 0) {
		snprintf(why, why_size, "cannot read XML without libxml2: %s", xml.error);
		return -ELIBACC;
	}
	/*
	 * No network access (NONET), no entity substitution (no NOENT), no external DTD
	 * (no DTDLOAD, DTDATTR, DTDVALID), libxml2's own size limits kept (no HUGE), nothing
	 * printed. Entity references then stay reference nodes, and a document that declares
	 * entities at all is refused below: libvirt never writes one.
	 */
	doc = xml.read_memory(text, (int)len, "network.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xml.last_error();
		char msg[128];

		/* libxml2's message ends with a newline and sometimes with its own "line N". */
		strtcpy(msg, e && e->message ? e->message : "parse error", sizeof(msg));
		snprintf(why, why_size, "not well-formed XML (line %d: %s)", e ? e->line : 0, strstrip(msg));
		xml.reset_error();
		return -EBADMSG;
	}
	if (doc->intSubset && (doc->intSubset->entities || doc->intSubset->pentities)) {
		snprintf(why, why_size, "refused: its DOCTYPE declares entities, which libvirt never "
			 "writes and which could expand without bound");
		return -EBADMSG;
	}
	root = xml.root(doc);
	if (root && is_elem(root, "networkstatus"))
		net = child(root, "network");
	else if (root && is_elem(root, "network"))
		net = root;
	else
		net = NULL;
	if (!net) {
		snprintf(why, why_size, "root element is <%s>, not <network>",
			 root ? (const char *)root->name : "");
		return -EBADMSG;
	}
	element_text(child(net, "name"), n->name, sizeof(n->name));
	attr(child(net, "bridge"), "name", n->bridge, sizeof(n->bridge));
	fwd = child(net, "forward");
	if (fwd) {
		attr(fwd, "mode", n->forward_mode, sizeof(n->forward_mode));
		if (!n->forward_mode[0])
			scopy(n->forward_mode, "nat");	/* libvirt's default for <forward/> */
	}
	parse_ip(net, n);
	if (!n->name[0]) {
		snprintf(why, why_size, "<network> has no <name>");
		return -EBADMSG;
	}
	return 0;
}

int libvirt_network_load(const struct host *h, const char *path, struct libvirt_network *n,
			 char *why, size_t why_size)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = host_read(h, path, LIBVIRT_XML_MAX, &text, &len);
	if (r < 0) {
		snprintf(why, why_size, "%s", host_strerror(r));
		return r;
	}
	return libvirt_network_parse(text, len, n, why, why_size);
}
