// SPDX-License-Identifier: GPL-2.0-or-later
/* The planner: fix id + distro data + host facts -> ordered, typed steps. Nothing runs here. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>

#include "checks/accounts.h"
#include "checks/kvm.h"
#include "checks/udev_rules.h"
#include "fixes/fix.h"
#include "util.h"

static const char *const kind_names[] = {
	[STEP_COMMAND] = "command", [STEP_WRITE] = "write", [STEP_KMOD] = "kmod",
	[STEP_GROUP] = "group", [STEP_SYSCTL] = "sysctl", [STEP_HUMAN] = "human",
};

const char *step_kind_name(enum step_kind k)
{
	return kind_names[k];
}

static const char *const result_names[] = {
	[RESULT_PLANNED] = "planned", [RESULT_DONE] = "done", [RESULT_UNCHANGED] = "unchanged",
	[RESULT_FAILED] = "failed", [RESULT_NOT_RUN] = "not-run",
};

const char *step_result_name(enum step_result r)
{
	return result_names[r];
}

struct step *step_new(struct fix_plan *p, enum step_kind kind, bool needs_root, const char *why, ...)
{
	struct step *s;
	va_list ap;

	if (p->n_steps >= PLAN_STEPS_MAX)
		return NULL;	/* a plan bigger than this is a programming error */
	s = &p->steps[p->n_steps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->needs_root = needs_root;
	s->live = kind != STEP_WRITE && kind != STEP_HUMAN;
	s->timeout_s = 60;
	va_start(ap, why);
	vsnprintf(s->why, sizeof(s->why), why, ap);
	va_end(ap);
	return s;
}

/* vars: NULL-terminated pairs {"unit", "libvirtd", ...}. */
static const char *var_value(const char *const *vars, const char *name, size_t n)
{
	for (unsigned i = 0; vars && vars[i]; i += 2)
		if (strlen(vars[i]) == n && strncmp(vars[i], name, n) == 0)
			return vars[i + 1];
	return NULL;
}

int argv_from_template(char **argv, unsigned max, const char *tmpl, const char *const *vars)
{
	unsigned n = 0;
	const char *p = tmpl;

	while (*p) {
		char word[512];
		size_t len = 0;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		while (*p && !isspace((unsigned char)*p) && len + 1 < sizeof(word)) {
			const char *close;
			const char *v;

			if (*p == '{' && (close = strchr(p, '}')) &&
			    (v = var_value(vars, p + 1, (size_t)(close - p - 1)))) {
				size_t vl = strlen(v);

				if (len + vl + 1 >= sizeof(word))
					return -E2BIG;
				memcpy(word + len, v, vl);
				len += vl;
				p = close + 1;
				continue;
			}
			word[len++] = *p++;
		}
		word[len] = '\0';
		if (n + 1 >= max)
			return -E2BIG;
		argv[n] = strdup(word);
		if (!argv[n])
			return -ENOMEM;
		n++;
	}
	argv[n] = NULL;
	return (int)n;
}

/* Append the words of `list` to argv (package names). */
static int argv_append_words(char **argv, unsigned max, const char *list, const char *const *vars)
{
	unsigned n = 0;
	char *extra[STEP_ARGV_MAX];
	int r;

	while (argv[n])
		n++;
	r = argv_from_template(extra, ARRAY_SIZE(extra), list, vars);
	if (r < 0)
		return r;
	for (int i = 0; i < r; i++) {
		if (n + 1 >= max) {
			free(extra[i]);
			continue;
		}
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	return 0;
}

static void human(struct fix_plan *p, bool root, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void human(struct fix_plan *p, bool root, const char *why, const char *fmt, ...)
{
	struct step *s = step_new(p, STEP_HUMAN, root, "%s", why);
	va_list ap;

	if (!s)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s->content, fmt, ap) < 0)
		s->content = NULL;
	va_end(ap);
}

static struct step *command(struct fix_plan *p, const char *tmpl, const char *const *vars,
			    const char *why)
{
	struct step *s = step_new(p, STEP_COMMAND, true, "%s", why);

	if (s && argv_from_template(s->argv, STEP_ARGV_MAX, tmpl, vars) <= 0) {
		p->n_steps--;
		return NULL;
	}
	return s;
}

static void guard(struct step *s, enum guard_kind kind, const char *tmpl, const char *const *vars,
		  const char *match)
{
	if (!s)
		return;
	s->guard = kind;
	if (tmpl && argv_from_template(s->guard_argv, STEP_ARGV_MAX, tmpl, vars) <= 0)
		s->guard = GUARD_NONE;
	if (match)
		scopy(s->guard_match, match);
}

static void write_file(struct fix_plan *p, const char *dir, const char *name, unsigned mode,
		       const char *content, const char *why)
{
	struct step *s = step_new(p, STEP_WRITE, true, "%s", why);

	if (!s)
		return;
	sfmt(s->path, "%s/%s", dir, name);
	s->content = strdup(content);
	s->mode = mode;
}

static const char *dget(const struct plan_ctx *c, const char *section, const char *key, const char *dflt)
{
	const char *v = distro_get_arch(c->distro, section, key, c->facts->ident.arch);

	return v && *v ? v : dflt;
}

/* ---- packages ---- */

static const char *const package_need_names[][2] = {
	{ "qemu_system", "the QEMU system emulator" },
	{ "qemu_img", "qemu-img" },
	{ "libvirt_daemon", "the libvirt daemon" },
	{ "libvirt_clients", "virsh and the libvirt clients" },
	{ "virt_install", "virt-install" },
	{ "dnsmasq", "dnsmasq (DHCP and DNS for libvirt's NAT network)" },
	{ "bridge_utils", "bridge utilities" },
	{ "kernel_modules_extra", "the kernel's KVM modules" },
};

static const char *need_title(const char *need)
{
	for (size_t i = 0; i < ARRAY_SIZE(package_need_names); i++)
		if (streq(package_need_names[i][0], need))
			return package_need_names[i][1];
	return need;
}

/* Install the packages for the given needs: [refresh +] install, guarded by the query. */
static void plan_packages(const struct plan_ctx *c, struct fix_plan *p, const char *const *needs,
			  const char *why)
{
	const char *install = dget(c, "packages", "install", NULL);
	const char *refresh = dget(c, "packages", "refresh", NULL);
	const char *query = dget(c, "packages", "query", NULL);
	/* What the query prints for an installed package, once per package: Debian's dpkg -s
	 * also succeeds for a package removed with its config files left. */
	const char *installed = dget(c, "packages", "query_installed", NULL);
	const char *env = dget(c, "packages", "env", NULL);
	const char *vars[] = { "kver", c->facts->ident.kernel_release, NULL };
	char list[512] = "", titles[512] = "";
	struct step *s;

	for (unsigned i = 0; needs[i]; i++) {
		const char *pk = dget(c, "packages", needs[i], NULL);

		snprintf(titles + strlen(titles), sizeof(titles) - strlen(titles), "%s%s",
			 titles[0] ? ", " : "", need_title(needs[i]));
		if (pk && !words_contain(list, pk))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 list[0] ? " " : "", pk);
	}
	if (!install || !list[0]) {
		human(p, true, why, "Install %s with your distribution's package manager (%s has no "
		      "package data for this).", titles, c->distro->generic ? "this distribution" : c->distro->name);
		return;
	}
	for (int pass = refresh ? 0 : 1; pass < 2; pass++) {
		s = command(p, pass == 0 ? refresh : install, vars,
			    pass == 0 ? "refresh the package lists so the install finds current versions" : why);
		if (!s)
			continue;
		if (pass == 0)
			s->once_per_apply = true;
		if (pass == 1)
			argv_append_words(s->argv, STEP_ARGV_MAX, list, vars);
		s->timeout_s = 900;	/* downloads: generous, but never unbounded */
		if (env)
			s->env[0] = strdup(env);
		/* Installed already -> nothing to run, refresh included. */
		if (query) {
			guard(s, installed ? GUARD_EVERY_LINE : GUARD_EXIT_ZERO, query, vars, installed);
			argv_append_words(s->guard_argv, STEP_ARGV_MAX, list, vars);
		}
	}
}

static void plan_install_qemu(const struct plan_ctx *c, struct fix_plan *p)
{
	static const char *const needs[] = { "qemu_system", "qemu_img", NULL };
	const char *emulator = dget(c, "paths", "emulator", NULL);
	char why[256];

	if (emulator)
		sfmt(why, "QEMU (%s) runs the guests; qemu-img creates their disks", emulator);
	else
		sfmt(why, "QEMU runs the guests; qemu-img creates their disks");
	plan_packages(c, p, needs, why);
}

static void plan_install_libvirt(const struct plan_ctx *c, struct fix_plan *p)
{
	static const char *const needs[] = { "libvirt_daemon", "libvirt_clients", "virt_install",
					     "dnsmasq", "bridge_utils", NULL };

	plan_packages(c, p, needs, "libvirt manages guests and their NAT network (dnsmasq)");
}

static void plan_install_kernel_modules(const struct plan_ctx *c, struct fix_plan *p)
{
	static const char *const needs[] = { "kernel_modules_extra", NULL };

	plan_packages(c, p, needs, "this kernel's KVM modules are not installed");
}

/* ---- modules ---- */

static void kmod_step(struct fix_plan *p, const char *module, const char *why)
{
	struct step *s = step_new(p, STEP_KMOD, true, "%s", why);

	if (s)
		scopy(s->module, module);
}

static void persist_modules(const struct plan_ctx *c, struct fix_plan *p, const char *file,
			    const char *const *mods)
{
	char content[512];
	size_t n = (size_t)sfmt(content, "# Written by virt-doctor (%s): load at every boot.\n",
				p->fix->id);

	for (unsigned i = 0; mods[i]; i++)
		n += (size_t)snprintf(content + n, sizeof(content) - n, "%s\n", mods[i]);
	write_file(p, dget(c, "paths", "modules_load_d", "/etc/modules-load.d"), file, 0644, content,
		   "systemd-modules-load (or OpenRC's modules service) loads these at boot");
}

static void plan_load_modules(const struct plan_ctx *c, struct fix_plan *p, const char *file,
			      const char *const *mods, const char *why)
{
	for (unsigned i = 0; mods[i]; i++)
		kmod_step(p, mods[i], why);
	persist_modules(c, p, file, mods);
}

static void plan_load_kvm(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *vendor = c->facts->vendor_module;
	const char *mods[] = { "kvm", vendor[0] ? vendor : NULL, NULL };

	plan_load_modules(c, p, "kvm.conf", mods, "/dev/kvm appears only once kvm and its backend are loaded");
	if (!vendor[0])
		human(p, false, "the CPU shows no VT-x or AMD-V, so there is no backend module to pick",
		      "Load the backend for your CPU as well (kvm_intel or kvm_amd); if it fails, "
		      "dmesg says why (often \"disabled by bios\").");
}

static void plan_load_tun(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *mods[] = { "tun", NULL };

	plan_load_modules(c, p, "tun.conf", mods, "guests' tap network devices are created through /dev/net/tun");
}

static void plan_load_vhost_net(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *mods[] = { "vhost_net", NULL };

	plan_load_modules(c, p, "vhost_net.conf", mods,
			  "vhost-net moves virtio-net packet processing into the kernel (/dev/vhost-net)");
}

static void plan_load_vfio(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *mods[] = { "vfio", "vfio_iommu_type1", "vfio_pci", NULL };

	plan_load_modules(c, p, "vfio.conf", mods, "VFIO hands PCI devices to guests (passthrough)");
}

static void plan_enable_nested(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *vendor = c->facts->vendor_module;
	const struct fix_facts *f = c->facts;
	char content[160], guests[160];

	if (!streq(vendor, "kvm_intel") && !streq(vendor, "kvm_amd")) {
		human(p, false, "nested virtualization is a kvm_intel/kvm_amd parameter",
		      "This host has no kvm_intel or kvm_amd backend (%s); nested guests need one.",
		      vendor[0] ? vendor : "none found");
		return;
	}
	sfmt(content, "# Written by virt-doctor (modules.enable_nested).\noptions %s nested=1\n", vendor);
	write_file(p, dget(c, "paths", "modprobe_d", "/etc/modprobe.d"), "kvm-nested.conf", 0644, content,
		   "the module reads its nested parameter when it loads");
	if (f->running_guests > 0)
		sfmt(guests, "%d guest process(es) are running now: shut them down first", f->running_guests);
	else if (f->running_guests == 0)
		sfmt(guests, "no guests are running now");
	else if (f->kvm_refcnt >= 0)
		sfmt(guests, "the kvm module has %d user(s): shut guests down first", f->kvm_refcnt);
	else
		sfmt(guests, "cannot tell whether guests are running (offline root): shut them down first");
	human(p, true, "a loaded module keeps its parameters until it is reloaded",
	      "Reload the module to apply it (%s): modprobe -r %s && modprobe %s, or reboot.",
	      guests, vendor, vendor);
}

/* ---- access ---- */

static void plan_add_to_group(const struct plan_ctx *c, struct fix_plan *p, const char *group_key,
			      const char *dflt, const char *why)
{
	const char *group = dget(c, "groups", group_key, dflt);
	const char *add = dget(c, "groups", "add_user", NULL);
	const char *create = dget(c, "groups", "create", NULL);
	const char *user = c->facts->user;
	const char *vars[] = { "user", user, "group", group, NULL };
	struct step *s;

	if (!user[0] || streq(user, "root")) {
		human(p, false, why, "No ordinary user to add: run virt-doctor through sudo from the "
		      "account that will run guests, so SUDO_USER names it (root needs no group).");
		return;
	}
	if (create) {
		s = command(p, create, vars, "the group must exist before anyone can be in it");
		guard(s, GUARD_GROUP_EXISTS, NULL, NULL, NULL);
		if (s)
			scopy(s->group, group);
	}
	if (!add) {
		human(p, true, why, "Add %s to group %s with your distribution's user tools.", user, group);
		return;
	}
	s = step_new(p, STEP_GROUP, true, "%s", why);
	if (!s)
		return;
	scopy(s->user, user);
	scopy(s->group, group);
	argv_from_template(s->argv, STEP_ARGV_MAX, add, vars);
	human(p, false, "group membership is read at login",
	      "%s must log out and back in (or run: newgrp %s) before the new group applies.", user, group);
}

static void plan_add_kvm(const struct plan_ctx *c, struct fix_plan *p)
{
	plan_add_to_group(c, p, "kvm", "kvm", "members of the kvm group may open /dev/kvm");
}

static void plan_add_libvirt(const struct plan_ctx *c, struct fix_plan *p)
{
	plan_add_to_group(c, p, "libvirt", "libvirt",
			  "members of the libvirt group may manage system guests (qemu:///system) without sudo");
}

static void plan_udev(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *group = dget(c, "groups", "kvm", "kvm");
	const char *create = dget(c, "groups", "create", NULL);
	const char *trigger = dget(c, "paths", "udev_trigger", NULL);
	const char *vars[] = { "group", group, NULL };
	char content[256], match[80];
	struct step *s;

	if (c->facts->kvm_udev_rule)
		human(p, false, "the distribution's own rule normally does this",
		      "%s already sets /dev/kvm's group; a local rule in %s overrides it if it was changed.",
		      c->facts->kvm_udev_rule_file, dget(c, "paths", "udev_rules_d", "/etc/udev/rules.d"));
	if (create) {
		s = command(p, create, vars, "the rule names this group; it must exist");
		guard(s, GUARD_GROUP_EXISTS, NULL, NULL, NULL);
		if (s)
			scopy(s->group, group);
	}
	sfmt(content, "# Written by virt-doctor (udev.kvm_permissions).\n"
	     "KERNEL==\"kvm\", GROUP=\"%s\", MODE=\"0660\"\n", group);
	write_file(p, dget(c, "paths", "udev_rules_d", "/etc/udev/rules.d"), "65-kvm.rules", 0644, content,
		   "udev then creates /dev/kvm readable and writable by its group, not by root alone");
	/*
	 * Now, on the node itself: libvirt's QEMU opens /dev/kvm as its own unprivileged user,
	 * so a 0600 root:root node fails every guest until the group and mode change. Guarded
	 * by the node's current state, so a second --apply runs nothing.
	 */
	sfmt(match, "660:%s:", group);
	s = command(p, "chgrp {group} /dev/kvm", vars, "give the existing /dev/kvm the group now");
	guard(s, GUARD_OUTPUT, "stat -c %a:%G: /dev/kvm", NULL, match);
	s = command(p, "chmod 0660 /dev/kvm", NULL, "let that group open it now (QEMU opens it itself)");
	guard(s, GUARD_OUTPUT, "stat -c %a:%G: /dev/kvm", NULL, match);
	/* udevd listens on this socket (systemd-udevd and eudev alike); without it nothing
	 * applies rules, and a trigger would only queue events nobody reads. */
	if (c->host && c->host->live && !host_exists(c->host, "/run/udev/control"))
		human(p, false, "udev does not run on this host (no /run/udev/control)",
		      "The group and mode set now hold until /dev/kvm is created again (at the next boot); "
		      "the rule keeps them only where udev runs. Without udev, repeat the chgrp and chmod "
		      "at boot (or run virt-doctor fix --apply --only udev.kvm_permissions).");
	else if (trigger)
		command(p, trigger, NULL, "apply the rule to the existing /dev/kvm now");
	else
		human(p, true, "the rule applies when the device is next created",
		      "Re-create /dev/kvm (reload the kvm module) or reboot to apply the rule.");
}

/* ---- services and libvirt ---- */

/*
 * Enable and start the units in [services] units_key; where the service manager is not
 * running (a container, an init without systemd) start the daemon directly instead with
 * the argv in direct_key, guarded by direct_guard (exits 0 while the daemon answers).
 */
static void plan_service(const struct plan_ctx *c, struct fix_plan *p, const char *units_key,
			 const char *direct_key, const char *direct_guard, const char *what)
{
	const char *units = dget(c, "services", units_key, NULL);
	const char *enable = dget(c, "services", "enable", NULL);
	const char *start = dget(c, "services", "start", NULL);
	const char *enabled_q = dget(c, "services", "enabled_query", NULL);
	const char *active_q = dget(c, "services", "active_query", NULL);
	const char *u = units;

	const char *manager = dget(c, "services", "manager_running", NULL);
	const char *direct = dget(c, "services", direct_key, NULL);
	char why[160];

	if (manager && direct && c->host && c->host->live && !host_exists(c->host, manager)) {
		/* No systemd (or OpenRC) here: `systemctl start` would only fail. */
		struct step *s;

		human(p, false, "the service manager is not running, so its units cannot be started",
		      "%s does not exist: start %s directly now; it will not start at boot "
		      "until this host runs its service manager.", manager, what);
		sfmt(why, "start %s without the service manager", what);
		s = command(p, direct, NULL, why);
		guard(s, GUARD_EXIT_ZERO, direct_guard, NULL, NULL);
		return;
	}
	if (!units || !enable) {
		human(p, true, "the unit names for this need are not in this distribution's data",
		      "Enable and start %s with your init system.", what);
		return;
	}
	while (*u) {
		char unit[64];
		const char *end = strchrnul(u, ' ');
		size_t n = (size_t)(end - u);
		struct step *s;

		if (n && n < sizeof(unit)) {
			const char *vars[] = { "unit", unit, NULL };

			memcpy(unit, u, n);
			unit[n] = '\0';
			s = command(p, enable, vars, "start the daemon at every boot");
			if (enabled_q)
				guard(s, GUARD_EXIT_ZERO, enabled_q, vars, NULL);
			if (start) {
				s = command(p, start, vars, "start it now");
				if (active_q)
					guard(s, GUARD_EXIT_ZERO, active_q, vars, NULL);
			}
		}
		u = *end ? end + 1 : end;
	}
}

static void plan_enable_libvirtd(const struct plan_ctx *c, struct fix_plan *p)
{
	plan_service(c, p, "libvirt", "direct_start", "virsh --connect qemu:///system --readonly hostname",
		     "the libvirt daemon (libvirtd, or virtqemud and virtnetworkd)");
}

/* virtlogd answers its admin socket (root) while it runs; virt-admin ships with virsh. */
static void plan_start_virtlogd(const struct plan_ctx *c, struct fix_plan *p)
{
	plan_service(c, p, "logd", "logd_direct_start", "virt-admin --connect virtlogd:///system version",
		     "virtlogd (guest console and log output)");
}

static void virsh_step(const struct plan_ctx *c, struct fix_plan *p, const char *verb, const char *arg,
		       const char *why, enum guard_kind g, const char *match)
{
	const char *virsh = dget(c, "services", "virsh", "virsh --connect qemu:///system");
	char tmpl[512], gt[256];
	struct step *s;

	sfmt(tmpl, "%s %s %s", virsh, verb, arg);
	s = command(p, tmpl, NULL, why);
	sfmt(gt, "%s net-info default", virsh);
	guard(s, g, gt, NULL, match);
}

static void plan_define_network(const struct plan_ctx *c, struct fix_plan *p)
{
	virsh_step(c, p, "net-define",
		   dget(c, "paths", "libvirt_default_network", "/usr/share/libvirt/networks/default.xml"),
		   "define libvirt's NAT network 'default' (virbr0, 192.168.122.0/24) from the packaged XML",
		   GUARD_EXIT_ZERO, NULL);
}

/*
 * What stops `virsh net-start default` (net.default_network's start_blockers), and the fixes
 * that remove each; a blocker without one is a person's decision (whose interface it is).
 */
static const struct {
	const char *id;
	const char *fixes[2];
	const char *text;
} net_blocker_fixes[] = {
	{ "route_in_use", { NULL }, "another interface already has a route for its subnet "
	  "(\"Network is already in use by interface ...\")" },
	{ "bridge_exists", { NULL }, "an interface with its bridge's name exists already" },
	{ "no_firewall", { NULL }, "the firewall program libvirt runs for it is not installed" },
	{ "dns_port_taken", { NULL }, "another program holds port 53 where its dnsmasq must listen" },
	{ "no_dnsmasq", { "packages.install_dnsmasq", "packages.install_libvirt" },
	  "dnsmasq is not installed (\"Unable to find 'dnsmasq' binary in $PATH\")" },
};

static bool planned(const struct plan_ctx *c, const char *fix_id)
{
	for (unsigned i = 0; c->so_far && i < c->so_far->n; i++)
		if (streq(c->so_far->items[i].fix->id, fix_id))
			return true;
	return false;
}

/* The first blocker of the default network that no fix planned before this one removes. */
static const char *net_unresolved_blocker(const struct plan_ctx *c)
{
	for (unsigned i = 0; i < c->facts->n_net_blockers; i++) {
		const char *id = c->facts->net_blockers[i], *text = id;
		bool resolved = false;

		for (size_t k = 0; k < ARRAY_SIZE(net_blocker_fixes); k++) {
			if (!streq(net_blocker_fixes[k].id, id))
				continue;
			text = net_blocker_fixes[k].text;
			for (size_t f = 0; f < ARRAY_SIZE(net_blocker_fixes[k].fixes); f++)
				resolved |= net_blocker_fixes[k].fixes[f] &&
					    planned(c, net_blocker_fixes[k].fixes[f]);
		}
		if (!resolved)
			return text;
	}
	return NULL;
}

static void plan_install_dnsmasq(const struct plan_ctx *c, struct fix_plan *p)
{
	static const char *const needs[] = { "dnsmasq", NULL };

	plan_packages(c, p, needs, "libvirt runs dnsmasq for the DHCP and DNS of its NAT network; "
		      "without it `virsh net-start` fails");
}

static void plan_start_network(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *blocked = net_unresolved_blocker(c);

	if (blocked) {
		/* Starting it now would only fail; say what must change first. */
		human(p, true, "the default network cannot start yet",
		      "Resolve this first (see net.default_network): %s. Then: virsh net-start default "
		      "&& virsh net-autostart default.", blocked);
		return;
	}
	virsh_step(c, p, "net-start", "default", "guests on the default network need virbr0 and its dnsmasq",
		   GUARD_OUTPUT, "Active: yes");
	virsh_step(c, p, "net-autostart", "default", "start it whenever libvirt starts",
		   GUARD_OUTPUT, "Autostart: yes");
}

static void plan_ip_forward(const struct plan_ctx *c, struct fix_plan *p)
{
	struct step *s;

	write_file(p, dget(c, "paths", "sysctl_d", "/etc/sysctl.d"), "60-virt-doctor-ip-forward.conf", 0644,
		   "# Written by virt-doctor (sysctl.enable_ip_forward): NAT for guests.\n"
		   "net.ipv4.ip_forward = 1\n",
		   "keep IPv4 forwarding on across reboots");
	s = step_new(p, STEP_SYSCTL, true, "NAT guests reach the outside only when the host forwards IPv4");
	if (s) {
		scopy(s->path, "/proc/sys/net/ipv4/ip_forward");
		s->content = strdup("1");
	}
}

/* ---- things only a person can do ---- */

static bool is_amd(const struct fix_facts *f)
{
	return streq(f->cpu_vendor, "AuthenticAMD") || streq(f->vendor_module, "kvm_amd");
}

static void plan_firmware_virt(const struct plan_ctx *c, struct fix_plan *p)
{
	const struct fix_facts *f = c->facts;

	human(p, false, "the CPU's virtualization extensions are switched off before Linux starts",
	      "Reboot into the firmware setup (the key shown at power-on: Del, F2, F10 or F12; or run "
	      "'systemctl reboot --firmware-setup').");
	if (is_amd(f))
		human(p, false, "AMD calls AMD-V 'SVM' in firmware menus",
		      "Find Advanced > CPU Configuration > SVM Mode (sometimes 'AMD-V' or 'Virtualization') "
		      "and set it to Enabled; save and exit.");
	else if (streq(f->cpu_vendor, "GenuineIntel") || streq(f->vendor_module, "kvm_intel"))
		human(p, false, "Intel calls VT-x 'Virtualization Technology' in firmware menus",
		      "Find Advanced > CPU Configuration > Intel Virtualization Technology (VT-x) and set it "
		      "to Enabled; save and exit.");
	else
		human(p, false, "menu names differ by vendor",
		      "Enable 'Intel Virtualization Technology (VT-x)' or 'SVM Mode' (AMD-V), usually under "
		      "Advanced > CPU Configuration; save and exit.");
	human(p, false, "proof that it worked",
	      "After booting, grep -E 'vmx|svm' /proc/cpuinfo shows the flag and dmesg no longer says "
	      "\"kvm: disabled by bios\"; then run virt-doctor again.");
}

void fix_facts_from_run(struct fix_facts *f, const struct run *run)
{
	const struct check_result *r = run_result(run, "net.default_network");
	const struct detail *d = r ? detail_get(r, "start_blockers") : NULL;

	f->n_net_blockers = 0;
	for (unsigned i = 0; d && d->type == DETAIL_LIST && i < d->list.n &&
	     f->n_net_blockers < ARRAY_SIZE(f->net_blockers); i++)
		scopy(f->net_blockers[f->n_net_blockers++], d->list.items[i]);

	r = run_result(run, "host.hypervisor");
	if (!r)
		return;
	d = detail_get(r, "is_guest");
	f->is_guest = d && d->type == DETAIL_BOOL && d->boolean;
	d = detail_get(r, "hypervisor");
	if (d && d->type == DETAIL_STRING)
		strtcpy(f->hypervisor, d->string, sizeof(f->hypervisor));
}

static void plan_firmware_iommu(const struct plan_ctx *c, struct fix_plan *p)
{
	const struct fix_facts *f = c->facts;
	const char *grub = dget(c, "paths", "grub_default", "/etc/default/grub");
	const char *update = dget(c, "paths", "grub_update", NULL);
	bool amd = is_amd(f);

	if (f->is_guest) {
		/* A VM has no firmware switch for this: its IOMMU is a device the outer host emulates. */
		human(p, false, "this host is a virtual machine: its IOMMU can only be a virtual one",
		      "On the outer host%s%s%s, give this VM a virtual IOMMU, then power it off and on:",
		      f->hypervisor[0] ? " (" : "", f->hypervisor, f->hypervisor[0] ? ")" : "");
		/* QEMU's emulated VT-d works whatever the outer CPU's vendor; libvirt has long had it. */
		human(p, false, "KVM/libvirt outer host",
		      "<iommu model='intel'><driver intremap='on'/></iommu> under <devices> and "
		      "<ioapic driver='qemu'/> under <features> (q35 machine type).");
		human(p, false, "passthrough into a VM also needs the device passed to this VM first",
		      "Only devices the outer host passed through to this VM can be passed on to guests here.");
		return;
	}

	human(p, false, "the IOMMU must be on in firmware before the kernel can use it",
	      "In the firmware setup enable %s (often under Advanced > Chipset or System Agent).",
	      amd ? "'IOMMU' (AMD-Vi)" : "'Intel VT-d'");
	human(p, true, "the kernel command line turns the IOMMU on and keeps host devices fast",
	      "Edit %s: append \"%siommu=pt\" to GRUB_CMDLINE_LINUX.", grub, amd ? "" : "intel_iommu=on ");
	if (update)
		human(p, true, "GRUB reads the command line from its generated config",
		      "Regenerate the boot config: %s; then reboot.", update);
	else
		human(p, true, "the boot loader must pick up the new command line",
		      "Regenerate your boot loader's configuration (update-grub, grub2-mkconfig, or your "
		      "distribution's tool); then reboot.");
	human(p, false, "proof that it worked",
	      "After rebooting, /sys/kernel/iommu_groups/ lists groups and dmesg shows \"%s\".",
	      amd ? "AMD-Vi: Interrupt remapping enabled" : "DMAR: IOMMU enabled");
}

static void plan_hypervisor_nested(const struct plan_ctx *c, struct fix_plan *p)
{
	const char *mod = is_amd(c->facts) ? "kvm_amd" : "kvm_intel";

	human(p, false, "this host is itself a virtual machine: the outer hypervisor hides VT-x/AMD-V",
	      "On the outer host, expose virtualization to this VM, then power it off and on:");
	human(p, false, "KVM/libvirt outer host",
	      "options %s nested=1 in /etc/modprobe.d/ there, and <cpu mode='host-passthrough'/> "
	      "(or virt-install --cpu host-passthrough) for this VM.", mod);
	human(p, false, "Proxmox VE", "Set this VM's processor type to 'host'.");
	human(p, false, "VMware", "Enable 'Expose hardware assisted virtualization to the guest OS' "
	      "in the VM's CPU settings.");
	human(p, false, "Hyper-V", "Set-VMProcessor -VMName <vm> -ExposeVirtualizationExtensions $true");
	human(p, false, "cloud instances", "Use an instance type with nested virtualization (bare metal "
	      "or one the provider documents for it).");
}

/* Application order: packages, modules, devices and users, daemons, networks, then people. */
const struct fix fixes[] = {
	{ "packages.install_kernel_modules", { "kvm.modules" },
	  "install the kernel's KVM modules", plan_install_kernel_modules, AFTER_NONE },
	{ "packages.install_qemu", { "emulator.qemu" },
	  "install the QEMU system emulator and qemu-img", plan_install_qemu, AFTER_NONE },
	{ "packages.install_libvirt", { "libvirt.daemon", "net.default_network" },
	  "install libvirt (daemon, virsh, virt-install, dnsmasq)", plan_install_libvirt, AFTER_NONE },
	{ "packages.install_dnsmasq", { "net.default_network" },
	  "install dnsmasq, which libvirt's NAT network runs", plan_install_dnsmasq, AFTER_NONE },
	{ "modules.load_kvm", { "kvm.modules", "kvm.device", "kvm.api" },
	  "load kvm and its backend now and at every boot", plan_load_kvm, AFTER_NONE },
	{ "modules.enable_nested", { "cpu.nested" },
	  "turn on nested virtualization in the KVM backend", plan_enable_nested, AFTER_REBOOT },
	{ "modules.load_tun", { "net.tun" }, "load tun now and at every boot", plan_load_tun, AFTER_NONE },
	{ "modules.load_vhost_net", { "net.vhost_net" },
	  "load vhost_net now and at every boot", plan_load_vhost_net, AFTER_NONE },
	{ "modules.load_vfio", { "iommu.groups" },
	  "load the VFIO modules now and at every boot", plan_load_vfio, AFTER_NONE },
	{ "udev.kvm_permissions", { "kvm.device" },
	  "give /dev/kvm mode 0660 and group kvm now, and keep it so with a udev rule", plan_udev, AFTER_NONE },
	{ "user.add_to_kvm_group", { "kvm.device", "user.groups" },
	  "add the user to the kvm group", plan_add_kvm, AFTER_RELOGIN },
	{ "user.add_to_libvirt_group", { "user.groups", "libvirt.daemon" },
	  "add the user to the libvirt group", plan_add_libvirt, AFTER_RELOGIN },
	{ "services.enable_libvirtd", { "libvirt.daemon" },
	  "enable and start the libvirt daemon", plan_enable_libvirtd, AFTER_NONE },
	{ "services.start_virtlogd", { "libvirt.helpers" },
	  "start virtlogd now and at every boot", plan_start_virtlogd, AFTER_NONE },
	{ "libvirt.define_default_network", { "net.default_network" },
	  "define libvirt's default NAT network", plan_define_network, AFTER_NONE },
	{ "libvirt.start_default_network", { "net.default_network" },
	  "start libvirt's default network and mark it autostart", plan_start_network, AFTER_NONE },
	{ "sysctl.enable_ip_forward", { "net.ip_forward" },
	  "enable IPv4 forwarding now and at every boot", plan_ip_forward, AFTER_NONE },
	{ "firmware.enable_virtualization", { "cpu.virt_extensions", "kvm.modules" },
	  "enable VT-x/AMD-V in the firmware (by hand)", plan_firmware_virt, AFTER_REBOOT },
	{ "firmware.enable_iommu", { "iommu.groups" },
	  "enable the IOMMU in firmware and on the kernel command line (by hand)", plan_firmware_iommu,
	  AFTER_REBOOT },
	{ "hypervisor.enable_nested", { "cpu.nested", "cpu.virt_extensions" },
	  "expose virtualization to this VM on the outer hypervisor (by hand)", plan_hypervisor_nested,
	  AFTER_REBOOT },
};
const unsigned n_fixes = ARRAY_SIZE(fixes);

const struct fix *fix_find(const char *id)
{
	for (unsigned i = 0; i < n_fixes; i++)
		if (streq(fixes[i].id, id))
			return &fixes[i];
	return NULL;
}

void plan_one(const struct plan_ctx *ctx, const struct fix *fix, struct fix_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->fix = fix;
	fix->plan(ctx, p);
}

int plan_build(const struct plan_ctx *ctx, const struct run *run, const char *const *only,
	       unsigned n_only, struct plan *plan)
{
	struct plan_ctx c = *ctx;

	c.so_far = plan;	/* a fix may depend on what is planned before it */
	memset(plan, 0, sizeof(*plan));
	plan->items = calloc(n_fixes, sizeof(*plan->items));
	if (!plan->items)
		return -ENOMEM;
	for (unsigned i = 0; i < n_fixes; i++) {
		const struct fix *fx = &fixes[i];
		struct fix_plan *p = &plan->items[plan->n];
		char by[8][32];
		unsigned n_by = 0;
		bool wanted = !n_only;

		for (unsigned k = 0; k < n_only; k++)
			wanted |= streq(only[k], fx->id);
		if (!wanted)
			continue;
		for (unsigned k = 0; run && k < run->n; k++) {
			const struct check_result *r = &run->result[k];

			if (r->status != CHECK_FAIL && r->status != CHECK_WARN)
				continue;
			for (unsigned f = 0; f < r->n_fixes; f++)
				if (streq(r->fixes[f], fx->id) && n_by < ARRAY_SIZE(by))
					scopy(by[n_by++], run->check[k]->id);
		}
		if (!n_by && !n_only)
			continue;
		plan_one(&c, fx, p);
		memcpy(p->suggested_by, by, sizeof(by));
		p->n_suggested = n_by;
		p->forced = !n_by;
		plan->n++;
	}
	return 0;
}

static void step_free(struct step *s)
{
	for (unsigned i = 0; i < STEP_ARGV_MAX && s->argv[i]; i++)
		free(s->argv[i]);
	for (unsigned i = 0; i < STEP_ARGV_MAX && s->guard_argv[i]; i++)
		free(s->guard_argv[i]);
	for (unsigned i = 0; i < ARRAY_SIZE(s->env) && s->env[i]; i++)
		free(s->env[i]);
	free(s->content);
}

void plan_free(struct plan *plan)
{
	for (unsigned i = 0; i < plan->n; i++)
		for (unsigned k = 0; k < plan->items[i].n_steps; k++)
			step_free(&plan->items[i].steps[k]);
	free(plan->items);
	plan->items = NULL;
	plan->n = 0;
}

/* ---- facts ---- */

static int count_guest(const char *name, void *data)
{
	const struct host *h = ((void **)data)[0];
	int *count = ((void **)data)[1];
	char path[64], comm[64];

	if (!isdigit((unsigned char)name[0]))
		return 0;
	sfmt(path, "/proc/%s/comm", name);
	if (host_read_line(h, path, comm, sizeof(comm)) == 0 &&
	    (startswith(comm, "qemu-") || streq(comm, "qemu-kvm") || streq(comm, "firecracker") ||
	     streq(comm, "cloud-hypervisor")))
		(*count)++;
	return 0;
}

void fix_facts_gather(struct host *h, const struct host_identity *id, const struct distro *d,
		      struct fix_facts *f)
{
	struct kvm_backend_facts kb;
	struct cpuinfo ci;
	const char *dirs = distro_get(d, "paths", "udev_rules_system");
	const char *sudo_user = getenv("SUDO_USER");
	char buf[32];

	memset(f, 0, sizeof(*f));
	f->ident = *id;
	if (h->uid != 0 && host_user_name(h, h->uid, f->user, sizeof(f->user), NULL) == 0)
		f->user_source = getenv("SUDO_UID") ? "SUDO_UID" : "the invoking user";
	else if (sudo_user && *sudo_user && !streq(sudo_user, "root")) {
		scopy(f->user, sudo_user);
		f->user_source = "SUDO_USER";
	}

	kvm_backend_probe(h, &kb);
	if (host_cpuinfo(h, &ci) == 0) {
		scopy(f->cpu_vendor, ci.vendor);
		if (!kb.backend[0] || kb.paravirtual)
			for (unsigned i = 0; i < n_kvm_backends; i++)
				if (kvm_backends[i].needs != CPU_EXT_NONE && kvm_backends[i].needs == ci.extension)
					scopy(kb.backend, kvm_backends[i].module);
	}
	scopy(f->vendor_module, kb.backend);

	/* A distribution rule that sets /dev/kvm's group: the system rule directories only. */
	if (!dirs)
		dirs = "/usr/lib/udev/rules.d /lib/udev/rules.d";
	{
		char list[512], *dir_v[8], *save = NULL;
		unsigned n = 0;
		struct kvm_rule kr = { 0 };

		scopy(list, dirs);
		for (char *t = strtok_r(list, " ", &save); t && n < ARRAY_SIZE(dir_v); t = strtok_r(NULL, " ", &save))
			dir_v[n++] = t;
		kvm_rules_scan(h, (const char *const *)dir_v, n, &kr, NULL, NULL);
		f->kvm_udev_rule = kr.group[0] != '\0';
		if (f->kvm_udev_rule)
			scopy(f->kvm_udev_rule_file, kr.file);
	}

	f->running_guests = -1;
	if (h->live) {
		void *args[2] = { h, &f->running_guests };

		f->running_guests = 0;
		host_list_dir(h, "/proc", count_guest, args);
	}
	f->kvm_refcnt = -1;
	if (host_read_line(h, "/sys/module/kvm/refcnt", buf, sizeof(buf)) == 0)
		f->kvm_refcnt = atoi(buf);
}
