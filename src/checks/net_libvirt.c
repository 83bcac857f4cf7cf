// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt network XML (definitions and status files), read with libxml2. */
#include <arpa/inet.h>
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "checks/net.h"
#include "util.h"

static void xml_docp(xmlDoc **d)
{
	if (*d)
		xmlFreeDoc(*d);
}

static void xml_freep(xmlChar **s)
{
	if (*s)
		xmlFree(*s);
}

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)name);
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
	_cleanup_(xml_freep) xmlChar *v = node ? xmlGetProp(node, (const xmlChar *)name) : NULL;

	strtcpy(buf, v ? (const char *)v : "", size);
}

static void element_text(xmlNode *node, char *buf, size_t size)
{
	_cleanup_(xml_freep) xmlChar *v = node ? xmlNodeGetContent(node) : NULL;

	strtcpy(buf, v ? (const char *)v : "", size);
	strstrip(buf);
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

int libvirt_network_parse(const char *xml, size_t len, struct libvirt_network *n,
			  char *why, size_t why_size)
{
	_cleanup_(xml_docp) xmlDoc *doc = NULL;
	xmlNode *root, *net, *fwd;

	memset(n, 0, sizeof(*n));
	n->prefix = -1;
	if (why_size)
		why[0] = '\0';
	if (len > INT32_MAX)
		return -EFBIG;
	/* No network access, no entity expansion, no DTD loading, nothing printed. */
	doc = xmlReadMemory(xml, (int)len, "network.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		char msg[128];

		/* libxml2's message ends with a newline and sometimes with its own "line N". */
		strtcpy(msg, e && e->message ? e->message : "parse error", sizeof(msg));
		snprintf(why, why_size, "not well-formed XML (line %d: %s)", e ? e->line : 0, strstrip(msg));
		xmlResetLastError();
		return -EBADMSG;
	}
	root = xmlDocGetRootElement(doc);
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

	r = host_read(h, path, 1u << 20, &text, &len);
	if (r < 0) {
		snprintf(why, why_size, "%s", host_strerror(r));
		return r;
	}
	return libvirt_network_parse(text, len, n, why, why_size);
}
