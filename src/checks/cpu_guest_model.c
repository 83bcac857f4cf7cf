// SPDX-License-Identifier: GPL-2.0-or-later
/* cpu.guest_model: whether the CPU models libvirt and virt-install use by default start here. */
#include <errno.h>
#include <jansson.h>
#include <sys/wait.h>

#include "cache.h"
#include "checks/check.h"
#include "checks/qemu_probe.h"
#include "util.h"

#define PROBE_TIMEOUT_MS 5000	/* QEMU with -machine none answers in ~0.1 s; a KVM start in < 1 s */
#define QMP_OUT_MAX (1u << 20)	/* query-cpu-definitions is ~60 KiB on x86 */
#define MAX_MODELS 4
#define LIBVIRT_CPU_MAP "/usr/share/libvirt/cpu_map"

/*
 * The named models to fall back to, best first. kvm64 is QEMU's model meant for KVM hosts:
 * libvirt's definition of qemu64 also requires svm, which no Intel host (and no nested one)
 * has, so libvirt refuses qemu64 where kvm64 starts.
 */
static const struct fallback_models {
	const char *qemu_arch;
	const char *models[MAX_MODELS];
} fallback_models[] = {
	{ "x86_64", { "kvm64", "qemu64" } },
	{ "i386", { "kvm32", "qemu32" } },
};

/* libvirt's CPU feature names where Linux's /proc/cpuinfo says it differently. */
static const struct feature_alias {
	const char *libvirt, *linux_name;
} feature_aliases[] = {
	{ "pclmuldq", "pclmulqdq" },
	{ "tsc-deadline", "tsc_deadline_timer" },
	{ "sse4.1", "sse4_1" },
	{ "sse4.2", "sse4_2" },
	{ "cmt", "cqm" },
};

static const char qmp_input[] =
	"{\"execute\":\"qmp_capabilities\"}\n"
	"{\"execute\":\"query-cpu-definitions\",\"id\":\"defs\"}\n"
	"{\"execute\":\"query-cpu-model-expansion\",\"id\":\"host\","
	"\"arguments\":{\"type\":\"full\",\"model\":{\"name\":\"host\"}}}\n"
	"{\"execute\":\"quit\"}\n";

/* What the probes found: the part that is cached. "" is unknown. */
struct model_fact {
	char name[32];
	bool usable;
	char blocker[200];	/* why not: libvirt's missing features or QEMU's error */
	char qemu_blockers[200];	/* QEMU's unavailable-features for it (it warns and drops them) */
};
struct gm_facts {
	char hp[8], hp_error[200];	/* host-passthrough: "ok" or "fails" */
	char hm[8], hm_error[200];	/* host-model */
	struct model_fact models[MAX_MODELS];
	unsigned n_models;
};

struct gm_job {
	const struct host *host;
	const struct qemu_arch *qa;
	const struct fallback_models *fb;
	char kernel_arch[64], name[64], emu[256], machine[MAX_MODELS + 2][64];
	struct probe ps[MAX_MODELS + 3], *qmp, *hp, *named[MAX_MODELS];	/* + QMP, host, host-model */
	unsigned n;
	uint64_t deadline;
	bool live_probes;	/* probes were started (no cache hit) */
	bool collected;
	bool timed_out;		/* a probe hit its limit: a busy host, not a fact to keep */
	bool use_cache, hit;
	char key[CACHE_KEY_MAX], entry[40], miss[160];
	struct gm_facts facts;
};

/* ---- libvirt's judgement of a named model: its cpu_map features against the host's ---- */

/* The host CPU's feature flags, as the kernel names them (x86 "flags" line). */
static bool host_flags(const struct host *h, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	const char *p;
	size_t n;

	if (host_read(h, "/proc/cpuinfo", HOST_READ_MAX, &text, &n) < 0)
		return false;
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (startswith(p, "flags")) {
			p = strchr(p, ':');
			if (!p)
				return false;
			p++;
			snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
			return true;
		}
	return false;
}

static bool host_has(const char *flags, const char *feature)
{
	char name[64];

	for (size_t i = 0; i < ARRAY_SIZE(feature_aliases); i++)
		if (streq(feature, feature_aliases[i].libvirt))
			return words_contain(flags, feature_aliases[i].linux_name);
	scopy(name, feature);
	for (char *p = name; *p; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	return words_contain(flags, name);
}

/* The value of attribute name='...' (or "...") in tag, into buf. */
static bool xml_attr(const char *tag, const char *end, const char *attr, char *buf, size_t size)
{
	char pat[32];
	const char *p;
	size_t n;

	sfmt(pat, "%s=", attr);
	p = memmem(tag, (size_t)(end - tag), pat, strlen(pat));
	if (!p || p + strlen(pat) >= end)
		return false;
	p += strlen(pat);
	if (*p != '\'' && *p != '"')
		return false;
	n = strcspn(p + 1, *p == '\'' ? "'" : "\"");
	if (!n || n >= size || p + 1 + n >= end)
		return false;
	snprintf(buf, size, "%.*s", (int)n, p + 1);
	return true;
}

/*
 * Append to missing the features of libvirt's model that this host lacks, following the
 * model's parent (<model name='...'/> inside it). -ENOENT when libvirt has no such model.
 */
static int libvirt_missing(const struct host *h, const char *model, const char *flags, char *missing,
			   size_t size, int depth)
{
	_cleanup_free_ char *text = NULL;
	char path[256], name[64];
	size_t len;
	int r;

	if (depth > 4)
		return -ELOOP;
	for (const char *p = model; *p; p++)
		if (*p == '/' || *p == '.')
			return -EINVAL;
	sfmt(path, LIBVIRT_CPU_MAP "/x86_%s.xml", model);
	r = host_read(h, path, 1u << 20, &text, &len);
	if (r < 0)
		return r;
	/* Blank out comments: libvirt's qemu64 lists TCG-only features in one. */
	for (char *c = strstr(text, "<!--"); c; c = strstr(c, "<!--")) {
		char *e = strstr(c, "-->");

		memset(c, ' ', e ? (size_t)(e + 3 - c) : strlen(c));
	}
	for (const char *p = strchr(text, '<'); p; p = strchr(p + 1, '<')) {
		const char *e = strchr(p, '>');

		if (!e)
			break;
		if (startswith(p, "<feature ") && xml_attr(p, e, "name", name, sizeof(name))) {
			if (!host_has(flags, name)) {
				size_t l = strlen(missing);

				snprintf(missing + l, size - l, "%s%s", l ? "," : "", name);
			}
		} else if (startswith(p, "<model ") && e[-1] == '/' &&
			   xml_attr(p, e, "name", name, sizeof(name))) {
			libvirt_missing(h, name, flags, missing, size, depth + 1);
		}
	}
	return 0;
}

/* ---- libvirt's own capability cache: how libvirtd saw the models, as evidence ---- */

#define LIBVIRT_CAPS "/var/cache/libvirt/qemu/capabilities"

struct caps_search {
	const struct host *h;
	const char *emu;
	char path[300];
	char *text;		/* the matching file, when found */
	int err;		/* the first read error, for the detail */
};

static int find_caps(const char *name, void *data)
{
	struct caps_search *cs = data;
	char path[300], tag[300];
	char *text = NULL;
	size_t len;
	int r;

	if (strlen(name) < 5 || !streq(name + strlen(name) - 4, ".xml"))
		return 0;
	sfmt(path, LIBVIRT_CAPS "/%s", name);
	r = host_read(cs->h, path, 4u << 20, &text, &len);
	if (r < 0) {
		if (!cs->err)
			cs->err = r;
		return 0;
	}
	sfmt(tag, "<emulator>%s</emulator>", cs->emu);
	if (!strstr(text, tag)) {
		free(text);
		return 0;
	}
	scopy(cs->path, path);
	cs->text = text;
	return 1;
}

/* One model's entry for KVM: "kvm64: usable=no (pni)", or false when the file has none. */
static bool caps_model(const char *text, const char *model, char *buf, size_t size)
{
	char pat[96], blockers[160] = "";
	const char *p, *end, *u;
	size_t l = 0;

	sfmt(pat, "<cpu type='kvm' name='%s' ", model);
	p = strstr(text, pat);
	if (!p || !(end = strchr(p, '>')))
		return false;
	u = memmem(p, (size_t)(end - p), "usable='", 8);
	if (!u)
		return false;
	u += 8;
	if (end[-1] != '/') {
		const char *close = strstr(end, "</cpu>");

		for (const char *b = strstr(end, "<blocker name='"); b && close && b < close;
		     b = strstr(b + 1, "<blocker name='")) {
			const char *n = b + strlen("<blocker name='");
			size_t nl = strcspn(n, "'");

			if (l < sizeof(blockers))
				l += (size_t)snprintf(blockers + l, sizeof(blockers) - l, "%s%.*s", l ? "," : "",
						      (int)nl, n);
		}
	}
	snprintf(buf, size, "%s: usable=%.*s%s%s%s", model, (int)strcspn(u, "'"), u, l ? " (" : "",
		 blockers, l ? ")" : "");
	return true;
}

static void libvirt_evidence(const struct gm_job *j, struct check_result *r)
{
	struct caps_search cs = { .h = j->host, .emu = j->emu };
	char line[256];

	detail_null(r, "libvirt_cache");
	if (host_list_dir(j->host, LIBVIRT_CAPS, find_caps, &cs) < 0 && !cs.text)
		return;
	if (!cs.text) {
		if (cs.err)
			detail_str(r, "libvirt_cache_error", "%s: %s", LIBVIRT_CAPS, host_strerror(cs.err));
		return;
	}
	detail_str(r, "libvirt_cache", "%s", cs.path);
	detail_list_add(r, "libvirt_cache_models", NULL);
	for (unsigned i = 0; j->fb && i < MAX_MODELS && j->fb->models[i]; i++)
		if (caps_model(cs.text, j->fb->models[i], line, sizeof(line)))
			detail_list_add(r, "libvirt_cache_models", line);
	free(cs.text);
}

/* ---- the probes ---- */

static void job_start(struct check_ctx *ctx, struct gm_job *j)
{
	struct host *h = ctx->host;
	struct qemu_candidates c = { 0 };
	_cleanup_free_ char *payload = NULL;

	memset(j, 0, sizeof(*j));
	j->host = h;
	j->qa = qemu_host_arch(h, j->kernel_arch, sizeof(j->kernel_arch));
	if (!j->qa || !h->live)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fallback_models); i++)
		if (streq(fallback_models[i].qemu_arch, j->qa->qemu))
			j->fb = &fallback_models[i];
	sfmt(j->name, "qemu-system-%s", j->qa->qemu);
	qemu_find_binary(h, j->name, j->qa->qemu, &c, true);
	if (!c.n)
		return;
	scopy(j->emu, c.path[0]);

	j->use_cache = cache_enabled(h, ctx->opt && ctx->opt->no_cache);
	if (j->use_cache) {
		uint64_t hash = 14695981039346656037ull;	/* FNV-1a of the path: a file name */

		for (const unsigned char *p = (const unsigned char *)j->emu; *p; p++)
			hash = (hash ^ *p) * 1099511628211ull;
		sfmt(j->entry, "cpu-guest-model-%016llx", (unsigned long long)hash);
		if (cache_key(h, j->emu, j->key, sizeof(j->key)) < 0)
			j->use_cache = false;
		else if (cache_load(j->entry, j->key, &payload, j->miss, sizeof(j->miss)) > 0) {
			struct gm_facts *f = &j->facts;
			char v[400];

			cache_field(payload, "host_passthrough", f->hp, sizeof(f->hp));
			cache_field(payload, "host_passthrough_error", f->hp_error, sizeof(f->hp_error));
			cache_field(payload, "host_model", f->hm, sizeof(f->hm));
			cache_field(payload, "host_model_error", f->hm_error, sizeof(f->hm_error));
			for (unsigned i = 0; i < MAX_MODELS; i++) {
				struct model_fact *m = &f->models[f->n_models];
				char field[32], *sep;

				sfmt(field, "model%u", i);
				if (!cache_field(payload, field, v, sizeof(v)))
					break;
				/* model<i>=<name>|<yes|no>|<blocker>|<qemu blockers> */
				sep = strchr(v, '|');
				if (!sep)
					break;
				*sep++ = '\0';
				scopy(m->name, v);
				m->usable = startswith(sep, "yes|");
				sep = strchr(sep, '|');
				if (!sep)
					break;
				sep++;
				snprintf(m->blocker, sizeof(m->blocker), "%.*s", (int)strcspn(sep, "|"), sep);
				sep = strchr(sep, '|');
				if (sep)
					scopy(m->qemu_blockers, sep + 1);
				f->n_models++;
			}
			if (streq(f->hp, "ok") || streq(f->hp, "fails")) {
				j->hit = true;
				return;
			}
			scopy(j->miss, "refused: entry without host_passthrough");
			memset(f, 0, sizeof(*f));
		}
	}

	/* One batch: QEMU's own view over QMP, and real KVM starts with each CPU model. */
	j->qmp = &j->ps[j->n++];
	probe_init(j->qmp, QMP_OUT_MAX);
	j->qmp->argv[0] = j->emu;
	j->qmp->argv[1] = "-machine";
	j->qmp->argv[2] = "none,accel=kvm";
	j->qmp->argv[3] = "-nodefaults";
	j->qmp->argv[4] = "-no-user-config";
	j->qmp->argv[5] = "-nographic";
	j->qmp->argv[6] = "-qmp";
	j->qmp->argv[7] = "stdio";
	j->qmp->input = qmp_input;
	j->hp = &j->ps[j->n++];
	probe_init(j->hp, 0);
	qemu_kvm_argv(j->hp, j->emu, j->qa, "host", j->machine[0], sizeof(j->machine[0]));
	for (unsigned i = 0; j->fb && i < MAX_MODELS && j->fb->models[i]; i++) {
		j->named[i] = &j->ps[j->n++];
		probe_init(j->named[i], 0);
		qemu_kvm_argv(j->named[i], j->emu, j->qa, j->fb->models[i], j->machine[i + 1],
			      sizeof(j->machine[i + 1]));
	}
	j->deadline = now_us() + PROBE_TIMEOUT_MS * 1000ull;
	j->live_probes = true;
	probes_start(j->ps, j->n);
}

/* QEMU's answer to the command with this id: its "return", or NULL (error in *err). */
static json_t *qmp_return(json_t *const *answers, unsigned n, const char *id, const char **err)
{
	for (unsigned i = 0; i < n; i++) {
		json_t *a = answers[i], *e;
		const char *aid = json_string_value(json_object_get(a, "id"));

		if (!aid || !streq(aid, id))
			continue;
		e = json_object_get(a, "error");
		if (e) {
			*err = json_string_value(json_object_get(e, "desc"));
			return NULL;
		}
		return json_object_get(a, "return");
	}
	return NULL;
}

/* The comma-joined strings of a JSON array, into buf. */
static void join_array(json_t *arr, char *buf, size_t size)
{
	size_t i, l = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s && l < size)
			l += (size_t)snprintf(buf + l, size - l, "%s%s", l ? "," : "", s);
	}
}

/*
 * host-model as libvirt builds it on QEMU: the host CPU's expansion, every feature it turns
 * on, on top of the empty "base" model. Started for real, like the others.
 */
static int host_model_argv(struct gm_job *j, json_t *expansion, struct probe *p, char **cpu)
{
	json_t *props = json_object_get(json_object_get(expansion, "model"), "props"), *v;
	const char *k;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!json_is_object(props))
		return -EBADMSG;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("base", f);
	json_object_foreach(props, k, v)
		/* migratable is a property of "host" alone: base refuses it */
		if (json_is_true(v) && !streq(k, "migratable") && strspn(k, "abcdefghijklmnopqrstuvwxyz"
			"0123456789-_.") == strlen(k))
			fprintf(f, ",%s=on", k);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*cpu = buf;
	probe_init(p, 0);
	qemu_kvm_argv(p, j->emu, j->qa, buf, j->machine[MAX_MODELS + 1], sizeof(j->machine[0]));
	return 0;
}

static void probe_verdict(const struct probe *p, char *ok, size_t oksize, char *err, size_t errsize)
{
	if (probe_ok(p)) {
		snprintf(ok, oksize, "ok");
		err[0] = '\0';
	} else {
		snprintf(ok, oksize, "fails");
		probe_failure_line(p, err, errsize);
	}
}

/* Collect the batch into facts. false (r set to skip) when QEMU could not use KVM at all. */
static bool collect(struct gm_job *j, const struct run *run, struct check_result *r)
{
	struct gm_facts *f = &j->facts;
	json_t *answers[16] = { NULL }, *defs, *expansion;
	const char *qerr = NULL;
	char line[200], flags[8192];
	unsigned na = 0;
	bool have_flags;

	probes_collect(j->ps, j->n, j->deadline);
	j->collected = true;
	for (char *s = j->qmp->out[0]; s && *s && na < ARRAY_SIZE(answers);) {
		char *eol = strchrnul(s, '\n');
		/* some properties are u64 beyond int64 (hv-version-id-*): read them as reals */
		json_t *a = json_loadb(s, (size_t)(eol - s), JSON_DECODE_INT_AS_REAL, NULL);

		if (a)
			answers[na++] = a;
		s = *eol ? eol + 1 : NULL;
	}
	defs = qmp_return(answers, na, "defs", &qerr);
	expansion = qmp_return(answers, na, "host", &qerr);
	if (!defs) {
		probe_failure_line(j->qmp, line, sizeof(line));
		for (unsigned i = 0; i < na; i++)
			json_decref(answers[i]);
		const struct check_result *dev = run_result(run, "kvm.device"), *api = run_result(run, "kvm.api");
		const char *see = dev && dev->status == CHECK_FAIL ? "kvm.device" :
				  api && api->status == CHECK_FAIL ? "kvm.api" : "kvm.device and kvm.api";

		result_set(r, CHECK_SKIP, "QEMU could not start with KVM, so no CPU model can: %s "
			   "(see %s)", line, see);
		detail_str(r, "qemu_error", "%s", line);
		return false;
	}

	probe_verdict(j->hp, f->hp, sizeof(f->hp), f->hp_error, sizeof(f->hp_error));

	have_flags = host_flags(j->host, flags, sizeof(flags));
	for (unsigned i = 0; j->fb && i < MAX_MODELS && j->fb->models[i]; i++) {
		struct model_fact *m = &f->models[f->n_models++];
		char missing[200] = "";
		size_t k;
		json_t *d;

		scopy(m->name, j->fb->models[i]);
		json_array_foreach(defs, k, d)
			if (json_string_value(json_object_get(d, "name")) &&
			    streq(json_string_value(json_object_get(d, "name")), m->name))
				join_array(json_object_get(d, "unavailable-features"), m->qemu_blockers,
					   sizeof(m->qemu_blockers));
		if (!probe_ok(j->named[i])) {
			probe_failure_line(j->named[i], m->blocker, sizeof(m->blocker));
			continue;
		}
		/* QEMU starts it; libvirt refuses a custom model whose features the host lacks. */
		if (have_flags && libvirt_missing(j->host, m->name, flags, missing, sizeof(missing), 0) == 0 &&
		    missing[0]) {
			snprintf(m->blocker, sizeof(m->blocker), "Host CPU does not provide required "
				 "features: %.150s", missing);
			continue;
		}
		m->usable = true;
	}

	/* host-model, a second round: it needs the expansion the first one brought. */
	if (expansion) {
		_cleanup_free_ char *cpu = NULL;
		struct probe *p = &j->ps[j->n];

		if (host_model_argv(j, expansion, p, &cpu) == 0) {
			j->n++;
			probes_start(p, 1);
			probes_collect(p, 1, now_us() + PROBE_TIMEOUT_MS * 1000ull);
			probe_verdict(p, f->hm, sizeof(f->hm), f->hm_error, sizeof(f->hm_error));
		}
	} else if (qerr) {
		snprintf(f->hm, sizeof(f->hm), "fails");
		snprintf(f->hm_error, sizeof(f->hm_error), "query-cpu-model-expansion: %s", qerr);
	}
	for (unsigned i = 0; i < na; i++)
		json_decref(answers[i]);
	for (unsigned i = 0; i < j->n; i++)
		j->timed_out |= j->ps[i].timed_out;
	return true;
}

static void store(struct gm_job *j)
{
	const struct gm_facts *f = &j->facts;
	char *payload = NULL, field[32], v[700];
	size_t len = 0;
	FILE *out;

	if (!j->use_cache || j->hit || j->timed_out)
		return;
	out = open_memstream(&payload, &len);
	if (!out)
		return;
	cache_put(out, "host_passthrough", f->hp);
	cache_put(out, "host_passthrough_error", f->hp_error);
	cache_put(out, "host_model", f->hm);
	cache_put(out, "host_model_error", f->hm_error);
	for (unsigned i = 0; i < f->n_models; i++) {
		const struct model_fact *m = &f->models[i];

		sfmt(field, "model%u", i);
		/* '|' separates the parts; a blocker that holds one loses it */
		sfmt(v, "%s|%s|%.*s|%s", m->name, m->usable ? "yes" : "no",
		     (int)strcspn(m->blocker, "|"), m->blocker, m->qemu_blockers);
		cache_put(out, field, v);
	}
	if (fclose(out) == 0)
		cache_store(j->entry, j->key, payload);
	free(payload);
}

static struct gm_job prepared;
static bool have_prepared;

static void prepare_guest_model(struct check_ctx *ctx)
{
	job_start(ctx, &prepared);
	have_prepared = true;
}

static void null_details(struct check_result *r)
{
	static const char *const keys[] = { "host_passthrough", "host_passthrough_error", "host_model",
					    "host_model_error", "advised_model", "advised_virt_install",
					    "advised_xml" };

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		detail_null(r, keys[i]);
	detail_list_add(r, "usable_models", NULL);
	detail_list_add(r, "unusable_models", NULL);
	detail_list_add(r, "model_blockers", NULL);
}

static void judge(struct check_ctx *ctx, struct gm_job *j, struct check_result *r)
{
	const struct check_result *emu = run_result(ctx->run, "emulator.qemu");
	const struct gm_facts *f = &j->facts;
	const char *advised = NULL;

	null_details(r);
	detail_bool(r, "cached", false);
	if (!j->qa) {
		result_set(r, CHECK_SKIP, "no QEMU target known for architecture '%s'",
			   j->kernel_arch[0] ? j->kernel_arch : "unknown");
		return;
	}
	if (!j->emu[0] || (emu && emu->status == CHECK_FAIL)) {
		result_set(r, CHECK_SKIP, "no usable qemu-system-%s to start (see emulator.qemu)",
			   j->qa->qemu);
		return;
	}
	if (j->hit) {
		detail_bool(r, "cached", true);
		detail_null(r, "cache_miss");
	} else {
		detail_str(r, "cache_miss", "%s", j->use_cache ? j->miss : "cache not used (--no-cache)");
		if (!collect(j, ctx->run, r))
			return;
		store(j);
	}

	detail_str(r, "emulator", "%s", j->emu);
	libvirt_evidence(j, r);
	detail_str(r, "host_passthrough", "%s", f->hp);
	if (f->hp_error[0])
		detail_str(r, "host_passthrough_error", "%s", f->hp_error);
	if (f->hm[0])
		detail_str(r, "host_model", "%s", f->hm);
	if (f->hm_error[0])
		detail_str(r, "host_model_error", "%s", f->hm_error);
	for (unsigned i = 0; i < f->n_models; i++) {
		const struct model_fact *m = &f->models[i];

		if (m->usable) {
			detail_list_add(r, "usable_models", m->name);
			if (!advised)
				advised = m->name;
		} else {
			char b[256];

			detail_list_add(r, "unusable_models", m->name);
			sfmt(b, "%s: %s", m->name, m->blocker);
			detail_list_add(r, "model_blockers", b);
		}
		if (m->qemu_blockers[0]) {
			char b[256];

			sfmt(b, "%s: %s", m->name, m->qemu_blockers);
			detail_list_add(r, "qemu_dropped_features", b);
		}
	}

	if (streq(f->hp, "ok")) {
		detail_str(r, "advised_model", "host-passthrough");
		detail_str(r, "advised_virt_install", "virt-install --cpu host-passthrough");
		detail_str(r, "advised_xml", "<cpu mode='host-passthrough'/>");
		if (streq(f->hm, "fails"))
			result_set(r, CHECK_PASS, "host-passthrough (virt-install's default) starts; "
				   "host-model does not: %s", f->hm_error);
		else
			result_set(r, CHECK_PASS, "host-passthrough (virt-install's default) starts%s",
				   streq(f->hm, "ok") ? ", and so does host-model" : "");
		return;
	}
	if (advised) {
		detail_str(r, "advised_model", "%s", advised);
		detail_str(r, "advised_virt_install", "virt-install --cpu %s", advised);
		detail_str(r, "advised_xml", "<cpu mode='custom' match='exact'><model fallback='forbid'>%s"
			   "</model></cpu>", advised);
		result_set(r, CHECK_WARN, "virt-install's default CPU (host-passthrough) fails: %s; "
			   "use virt-install --cpu %s", f->hp_error, advised);
		result_advise(r, "Guests with <cpu mode='host-passthrough'/>%s will not start. Give them "
			      "a named model: `virt-install --cpu %s ...`, or in the domain XML <cpu "
			      "mode='custom' match='exact'><model fallback='forbid'>%s</model></cpu>. "
			      "Guests without a <cpu> element start too.",
			      streq(f->hm, "fails") ? " or host-model" : "", advised, advised);
		return;
	}
	if (!f->n_models)
		result_set(r, CHECK_WARN, "virt-install's default CPU (host-passthrough) fails: %s; no "
			   "named fallback model is known for %s", f->hp_error, j->qa->qemu);
	else
		result_set(r, CHECK_WARN, "virt-install's default CPU (host-passthrough) fails: %s; no "
			   "named model tried starts either", f->hp_error);
	result_advise(r, "Guests with a <cpu> element of any mode tried here will not start; guests "
		      "without one get QEMU's default model. model_blockers says why each model failed.");
}

static void run_guest_model(struct check_ctx *ctx, struct check_result *r)
{
	static struct gm_job local;
	struct gm_job *j = &local;

	if (have_prepared && prepared.host == ctx->host) {
		j = &prepared;
		have_prepared = false;
	} else {
		job_start(ctx, j);
	}
	judge(ctx, j, r);
	if (j->live_probes && !j->collected)
		probes_collect(j->ps, j->n, 0);	/* a skip before collecting: reap, never leave behind */
	for (unsigned i = 0; i < j->n; i++)
		probe_free(&j->ps[i]);
	j->n = 0;
}

const struct check check_cpu_guest_model = {
	.id = "cpu.guest_model",
	.title = "CPU model guests will get",
	.run = run_guest_model,
	.start = prepare_guest_model,
	.flags = CHECK_LIVE_ONLY,
	.explain =
	"Starts QEMU with KVM the way libvirt will for each CPU mode a guest may ask for, and\n"
	"says which start:\n"
	"  host-passthrough  (virt-install's default, <cpu mode='host-passthrough'/>): a real KVM\n"
	"                    machine with -cpu host, one vCPU, paused before its first\n"
	"                    instruction, quit over QMP (the same start as emulator.qemu --deep);\n"
	"  host-model        QEMU's expansion of the host CPU (QMP query-cpu-model-expansion on\n"
	"                    qemu-system-<arch> -machine none,accel=kvm), started as base plus\n"
	"                    every feature it turns on;\n"
	"  named models      kvm64 and qemu64 (kvm32, qemu32 on i386): started with KVM, and\n"
	"                    judged as libvirt judges <cpu mode='custom' match='exact'>: every\n"
	"                    feature of libvirt's definition (/usr/share/libvirt/cpu_map) must be\n"
	"                    in the host CPU's flags. That is why libvirt refuses qemu64 on an\n"
	"                    Intel host (\"Host CPU does not provide required features: svm\")\n"
	"                    although QEMU alone runs it. QEMU's own query-cpu-definitions list\n"
	"                    of unavailable features is reported in qemu_dropped_features: QEMU\n"
	"                    warns about those and starts without them.\n"
	"All starts run at once, bounded by 5 s, begun before the first check of the run.\n"
	"\n"
	"The result is cached (see virt-doctor(8), FILES) until the QEMU binary, the kernel, its\n"
	"kvm parameters, /dev/kvm or the microcode change; --no-cache probes afresh.\n"
	"\n"
	"Pass: host-passthrough starts. Warn: it fails (QEMU's error is quoted, e.g. \"failed to\n"
	"set MSR 0x10a to 0x69\" under some outer hypervisors), with the named model that works:\n"
	"virt-install --cpu kvm64, or <cpu mode='custom' match='exact'><model\n"
	"fallback='forbid'>kvm64</model></cpu>. It is a warn, not a fail: guests with that model\n"
	"or without a <cpu> element start. Skip: no QEMU (emulator.qemu), or QEMU cannot use\n"
	"KVM (kvm.device, kvm.api), or --root (live only).",
};
