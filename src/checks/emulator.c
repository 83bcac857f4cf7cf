// SPDX-License-Identifier: GPL-2.0-or-later
/* emulator.qemu: the QEMU that libvirt would run for this architecture, its version, and (--deep) KVM. */
#include <sys/wait.h>

#include "checks/check.h"
#include "checks/kvm.h"
#include "checks/qemu_probe.h"
#include "cache.h"
#include "util.h"

#define VERSION_TIMEOUT_MS 2000	/* --version takes ~13 ms here; 2 s means it hangs */
#define DEEP_TIMEOUT_MS 5000	/* a KVM machine with one vCPU starts in well under 1 s */

/* "QEMU emulator version 7.2.22 (Debian ...)", "qemu-img version 7.2.22 (...)" -> "7.2.22". */
static bool parse_version(const char *text, char *buf, size_t size)
{
	const char *p = strstr(text, "version ");
	size_t n;

	if (!p)
		return false;
	p += strlen("version ");
	n = strspn(p, "0123456789.");
	if (!n || n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* true when it set the verdict; false when KVM was accepted and the rest decides. */
static bool judge_deep(struct check_result *r, const struct probe *host, const struct probe *fallback,
		       const char *fallback_cpu)
{
	char line[200];

	if (probe_ok(host)) {
		detail_str(r, "deep", "kvm");
		detail_null(r, "deep_error");
		return false;
	}
	probe_failure_line(host, line, sizeof(line));
	detail_str(r, "deep_error", "%s", line);
	if (host->timed_out && !(fallback && probe_ok(fallback))) {
		detail_str(r, "deep", "timeout");
		result_set(r, CHECK_FAIL, "QEMU with KVM did not start and quit within %u s",
			   DEEP_TIMEOUT_MS / 1000);
		result_advise(r, "A QEMU that cannot bring up a KVM machine cannot run guests. Try it by "
			      "hand: the command line is in `virt-doctor explain emulator.qemu`.");
		return true;
	}
	if (fallback && probe_ok(fallback)) {
		detail_str(r, "deep", "kvm-without-host-cpu");
		result_set(r, CHECK_WARN, "KVM works with -cpu %s, but -cpu host fails: %s", fallback_cpu,
			   line);
		result_advise(r, "Guests using the host's CPU model (libvirt <cpu mode='host-passthrough'/>, "
			      "virt-install --cpu host) will not start; host-model or a named CPU model "
			      "works. The outer hypervisor does not implement everything this CPU advertises.");
		return true;
	}
	detail_str(r, "deep", "rejected");
	if (fallback) {
		char fl[200];

		probe_failure_line(fallback, fl, sizeof(fl));
		detail_str(r, "deep_error_fallback", "%s", fl);
	}
	result_set(r, CHECK_FAIL, "QEMU cannot start a KVM machine: %s", line);
	result_advise(r, "KVM exists but QEMU cannot use it; see kvm.device and kvm.api, and the error "
		      "above, which QEMU printed.");
	return true;
}

static struct probe *probe_add(struct probe *ps, unsigned *n)
{
	struct probe *p = &ps[(*n)++];

	probe_init(p, 0);
	return p;
}

/* Everything one run of the check needs, from the search to the collected probes. */
struct emu_job {
	const struct host *host;
	const struct qemu_arch *qa;
	char kernel_arch[64], name[64], machine[2][64];
	struct qemu_candidates emu, img;
	struct probe ps[4], *pv, *pi, *pdh, *pdf;
	unsigned n, timeout_ms;
	uint64_t deadline;
	bool deep;
	/* The probe cache: --version answers of the emulator [0] and qemu-img [1]. */
	bool use_cache, hit[2];
	char key[2][CACHE_KEY_MAX], entry[2][40], miss[2][160];
	struct probe cached[2];	/* a hit, as the probe that would have printed it */
};

/* The entry for one binary's --version: named by its path, keyed by its identity. */
static void entry_name(char *buf, size_t size, const char *path)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a: a file name, not a secret */

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	snprintf(buf, size, "qemu-version-%016llx", (unsigned long long)h);
}

/* A hit becomes a finished probe with the cached output; a miss leaves pp to be spawned. */
static bool version_from_cache(struct emu_job *j, int k, const char *path, struct probe **pp)
{
	_cleanup_free_ char *payload = NULL;
	struct probe *p = &j->cached[k];

	entry_name(j->entry[k], sizeof(j->entry[k]), path);
	if (cache_key(j->host, path, j->key[k], sizeof(j->key[k])) < 0) {
		j->key[k][0] = '\0';
		scopy(j->miss[k], "binary cannot be stat'ed");
		return false;
	}
	if (cache_load(j->entry[k], j->key[k], &payload, j->miss[k], sizeof(j->miss[k])) <= 0)
		return false;
	probe_init(p, 0);
	if (!cache_field(payload, "out", p->out[0], p->cap[0])) {
		scopy(j->miss[k], "refused: entry has no out= line");
		probe_free(p);
		return false;
	}
	p->len[0] = strlen(p->out[0]);
	p->exited = true;
	p->status = 0;
	j->hit[k] = true;
	*pp = p;
	return true;
}

static void version_to_cache(struct emu_job *j, int k, const struct probe *p)
{
	char line[256];
	char *payload = NULL;
	size_t len = 0;
	FILE *f;

	if (!j->use_cache || j->hit[k] || !j->key[k][0] || !probe_ok(p))
		return;
	f = open_memstream(&payload, &len);
	if (!f)
		return;
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p->out[0], "\n"), p->out[0]);
	cache_put(f, "out", line);
	if (fclose(f) == 0)
		cache_store(j->entry[k], j->key[k], payload);
	free(payload);
}

/* Find the binaries and, live, launch the probes; nothing here waits for them. */
static void job_start(struct check_ctx *ctx, struct emu_job *j)
{
	struct host *h = ctx->host;

	memset(j, 0, sizeof(*j));
	j->host = h;
	j->qa = qemu_host_arch(h, j->kernel_arch, sizeof(j->kernel_arch));
	if (!j->qa)
		return;
	sfmt(j->name, "qemu-system-%s", j->qa->qemu);
	qemu_find_binary(h, j->name, j->qa->qemu, &j->emu, true);
	qemu_find_binary(h, "qemu-img", j->qa->qemu, &j->img, false);
	j->deep = ctx->opt && ctx->opt->deep && h->live;
	if (!j->emu.n || !h->live)
		return;	/* a foreign root's binaries are not ours to run */

	j->use_cache = cache_enabled(h, ctx->opt && ctx->opt->no_cache);
	if (!j->use_cache || !version_from_cache(j, 0, j->emu.path[0], &j->pv)) {
		j->pv = probe_add(j->ps, &j->n);
		j->pv->argv[0] = j->emu.path[0];
		j->pv->argv[1] = "--version";
	}
	if (j->img.n && (!j->use_cache || !version_from_cache(j, 1, j->img.path[0], &j->pi))) {
		j->pi = probe_add(j->ps, &j->n);
		j->pi->argv[0] = j->img.path[0];
		j->pi->argv[1] = "--version";
	}
	j->timeout_ms = VERSION_TIMEOUT_MS;
	if (j->deep) {
		/* One batch: the version probes hide inside the machine start-up. */
		j->pdh = probe_add(j->ps, &j->n);
		qemu_kvm_argv(j->pdh, j->emu.path[0], j->qa, "host", j->machine[0], sizeof(j->machine[0]));
		if (j->qa->fallback_cpu) {
			j->pdf = probe_add(j->ps, &j->n);
			qemu_kvm_argv(j->pdf, j->emu.path[0], j->qa, j->qa->fallback_cpu, j->machine[1],
				  sizeof(j->machine[1]));
		}
		j->timeout_ms = DEEP_TIMEOUT_MS;
	}
	j->deadline = now_us() + (uint64_t)j->timeout_ms * 1000;
	probes_start(j->ps, j->n);
}

/*
 * Started by the start hook before the first check runs, so QEMU's ~13 ms start-up overlaps
 * with every check before this one; run() collects it. One run per process, one job.
 */
static struct emu_job prepared;
static bool have_prepared;

static void prepare_emulator(struct check_ctx *ctx)
{
	job_start(ctx, &prepared);
	have_prepared = true;
}

static void judge_emulator(struct check_ctx *ctx, struct emu_job *j, struct check_result *r)
{
	const struct qemu_arch *qa;
	char line[200], emu_ver[32] = "", img_ver[32] = "";

	qa = j->qa;
	if (!qa) {
		result_set(r, CHECK_SKIP, "no QEMU target known for architecture '%s'",
			   j->kernel_arch[0] ? j->kernel_arch : "unknown");
		return;
	}
	detail_str(r, "arch", "%s", qa->qemu);
	detail_list_add(r, "candidates", NULL);
	for (unsigned i = 0; i < j->emu.n; i++)
		detail_list_add(r, "candidates", j->emu.path[i]);
	if (j->emu.n)
		detail_str(r, "emulator", "%s", j->emu.path[0]);
	else
		detail_null(r, "emulator");
	detail_null(r, "version");
	if (j->img.n)
		detail_str(r, "qemu_img", "%s", j->img.path[0]);
	else
		detail_null(r, "qemu_img");
	detail_null(r, "qemu_img_version");
	detail_null(r, "deep");

	if (!j->emu.n) {
		result_set(r, CHECK_FAIL, "no %s: this is why libvirt says 'Cannot find suitable emulator "
			   "for %s'", j->name, qa->qemu);
		result_advise(r, "virsh start and virsh create say \"unsupported configuration: No "
			      "emulator found for arch '%s'\". Install QEMU for this architecture "
			      "(Debian/Ubuntu: qemu-system-x86, qemu-system-arm, ...; Fedora/RHEL: "
			      "qemu-kvm, which RHEL installs as /usr/libexec/qemu-kvm), then restart "
			      "libvirtd: a daemon started without QEMU keeps saying so until it probes "
			      "again.", qa->qemu);
		result_fix(r, "packages.install_qemu");
		return;
	}
	if (!ctx->host->live) {
		if (!j->img.n) {
			result_set(r, CHECK_WARN, "%s found, but no qemu-img (versions not probed offline)",
				   j->emu.path[0]);
			result_advise(r, "qemu-img creates and converts disk images. Debian/Ubuntu: "
				      "qemu-utils; Fedora/RHEL: qemu-img.");
			result_fix(r, "packages.install_qemu");
		} else {
			result_set(r, CHECK_PASS, "%s and %s (versions not probed offline)", j->emu.path[0],
				   j->img.path[0]);
		}
		return;
	}

	probes_collect(j->ps, j->n, j->deadline);
	detail_bool(r, "cached", j->hit[0] && (!j->pi || j->hit[1]));
	if (!j->use_cache)
		detail_str(r, "cache_miss", "cache not used (--no-cache)");
	else if (!j->hit[0] || (j->pi && !j->hit[1]))
		detail_str(r, "cache_miss", "%s", j->hit[0] ? j->miss[1] : j->miss[0]);
	else
		detail_null(r, "cache_miss");

	if (parse_version(j->pv->out[0], emu_ver, sizeof(emu_ver))) {
		detail_str(r, "version", "%s", emu_ver);
		version_to_cache(j, 0, j->pv);
	}
	if (j->pi && parse_version(j->pi->out[0], img_ver, sizeof(img_ver))) {
		detail_str(r, "qemu_img_version", "%s", img_ver);
		version_to_cache(j, 1, j->pi);
	}

	if (!probe_ok(j->pv) || !emu_ver[0]) {
		probe_failure_line(j->pv, line, sizeof(line));
		if (j->pv->timed_out)
			result_set(r, CHECK_FAIL, "%s --version timed out after %u ms (killed)",
				   j->emu.path[0], j->timeout_ms);
		else if (probe_ok(j->pv))
			result_set(r, CHECK_FAIL, "%s --version printed no QEMU version", j->emu.path[0]);
		else
			result_set(r, CHECK_FAIL, "%s --version failed: %s", j->emu.path[0], line);
		detail_str(r, "version_error", "%s", line);
		result_advise(r, "libvirt runs this same binary to learn what it can do; one that does "
			      "not answer makes libvirt report 'Cannot find suitable emulator for %s'. "
			      "Reinstall QEMU.", qa->qemu);
		result_fix(r, "packages.install_qemu");
		return;
	}
	if (j->deep && judge_deep(r, j->pdh, j->pdf, qa->fallback_cpu))
		return;
	if (!img_ver[0]) {
		result_set(r, CHECK_WARN, "%s %s, but %s", j->emu.path[0], emu_ver,
			   j->pi ? "qemu-img --version failed" : "no qemu-img");
		result_advise(r, "qemu-img creates and converts disk images (virt-install and libvirt "
			      "storage pools use it). Debian/Ubuntu: qemu-utils; Fedora/RHEL: qemu-img.");
		result_fix(r, "packages.install_qemu");
		return;
	}
	result_set(r, CHECK_PASS, "%s %s, qemu-img %s%s", j->emu.path[0], emu_ver, img_ver,
		   j->deep ? "; a KVM machine starts with -cpu host" : "");
}

static void run_emulator(struct check_ctx *ctx, struct check_result *r)
{
	static struct emu_job local;
	struct emu_job *j = &local;

	if (have_prepared && prepared.host == ctx->host) {
		j = &prepared;
		have_prepared = false;
	} else {
		job_start(ctx, j);
	}
	judge_emulator(ctx, j, r);
	for (unsigned i = 0; i < j->n; i++)
		probe_free(&j->ps[i]);
	for (int k = 0; k < 2; k++)
		if (j->hit[k])
			probe_free(&j->cached[k]);
}

const struct check check_emulator_qemu = {
	.id = "emulator.qemu",
	.title = "QEMU emulator for this architecture",
	.run = run_emulator,
	.start = prepare_emulator,
	.explain =
	"Looks for qemu-system-<arch> for the host's architecture (x86_64, aarch64, ppc64,\n"
	"s390x, riscv64...) on $PATH and where distributions install it: /usr/bin,\n"
	"/usr/local/bin, RHEL's /usr/libexec/qemu-kvm and /usr/bin/qemu-kvm; and qemu-img.\n"
	"Live, it runs each with --version (execve, no shell, killed after 2 s) and reports\n"
	"the versions; both run at once, started before the first check of the run, so their\n"
	"start-up overlaps with each other and with the other checks. Under --root it only\n"
	"looks for executable files inside the root.\n"
	"\n"
	"Why: libvirt's \"Cannot find suitable emulator for x86_64\" means exactly this: it\n"
	"found no QEMU binary for the guest architecture (or could not run the one it found).\n"
	"A missing emulator fails; a missing qemu-img warns (guests run, images cannot be made).\n"
	"\n"
	"With --deep (live only) it starts the emulator for real, with KVM and the host's CPU\n"
	"model, paused before the first instruction, and quits it over QMP:\n"
	"  qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 64 -smp 1 -nodefaults\n"
	"    -no-user-config -display none -S -qmp stdio\n"
	"That creates the KVM VM and vCPU and loads the vCPU's CPUID and MSRs, which is where\n"
	"a host fails that advertises features it cannot deliver (e.g. nested under another\n"
	"hypervisor). QEMU's own error line is reported verbatim in deep_error, e.g.\n"
	"\"failed to set MSR 0x10a to 0x69\". On x86 it then retries with the plain qemu64 CPU:\n"
	"if that works, KVM is usable and only -cpu host (libvirt host-passthrough) is broken,\n"
	"so the verdict is warn - guests with host-model or a named CPU model run. If both\n"
	"fail, QEMU cannot use KVM at all: fail. Both attempts run in parallel, limit 5 s.\n"
	"\n"
	"Fix: install QEMU (Debian/Ubuntu qemu-system-x86 and qemu-utils; Fedora/RHEL\n"
	"qemu-kvm and qemu-img), then restart libvirtd so it probes the emulator again.",
};
