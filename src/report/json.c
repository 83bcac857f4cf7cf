// SPDX-License-Identifier: GPL-2.0-or-later
/* JSON report through jansson; every field is documented in docs/report.md. */
#include <errno.h>
#include <jansson.h>

#include "report/report.h"
#include "util.h"
#include "version.h"


/* Host strings are not guaranteed UTF-8 (a hostname set by hand, a model name, anything in a
 * hostile --root): invalid bytes become U+FFFD so the document stays valid JSON. */
static json_t *host_string(const char *s)
{
	_cleanup_free_ char *clean = NULL;
	json_t *j = json_string(s);

	if (j)
		return j;
	clean = str_sanitize(s, STR_JSON);
	return json_string(clean ? clean : "");
}

static void host_field(json_t *host, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(host, key, host_string(value));
}

static json_t *detail_value(const struct detail *d)
{
	json_t *a;

	switch (d->type) {
	case DETAIL_STRING:
		return host_string(d->string);
	case DETAIL_BOOL:
		return json_boolean(d->boolean);
	case DETAIL_INT:
		return json_integer(d->integer);
	case DETAIL_LIST:
		a = json_array();
		for (unsigned i = 0; a && i < d->list.n; i++)
			json_array_append_new(a, host_string(d->list.items[i]));
		return a;
	case DETAIL_STAGES:
		a = json_array();
		for (unsigned i = 0; a && i < d->stages.n; i++) {
			const struct detail_stage *s = &d->stages.items[i];

			json_array_append_new(a, json_pack("{s:o, s:s, s:I, s:o}", "name", host_string(s->name),
							   "status", s->status, "us", (json_int_t)s->us,
							   "detail", host_string(s->note)));
		}
		return a;
	case DETAIL_NULL:
	default:
		return json_null();
	}
}

static json_t *build(const struct report *rep)
{
	json_auto_t *root = json_object();
	json_t *host, *checks;
	char rep_time[32];

	if (!root)
		return NULL;
	report_time_rfc3339(rep->generated_at, rep_time, sizeof(rep_time));
	host = json_object();
	checks = json_array();
	/* kind first: validators and `fleet` pick the schema by it before reading the rest. */
	json_object_set_new(root, "kind", json_string("report"));
	json_object_set_new(root, "schema_version", json_string(REPORT_SCHEMA_VERSION));
	json_object_set_new(root, "tool", json_pack("{s:s, s:s}", "name", "virt-doctor",
						     "version", VIRT_DOCTOR_VERSION));
	json_object_set_new(root, "generated_at", json_string(rep_time));
	json_object_set_new(root, "mutated", json_boolean(rep->mutated));
	json_object_set_new(host, "root", host_string(rep->host->root));
	json_object_set_new(host, "live", json_boolean(rep->host->live));
	host_field(host, "hostname", rep->ident->hostname);
	host_field(host, "os_id", rep->ident->os.id);
	host_field(host, "os_id_like", rep->ident->os.id_like);
	host_field(host, "os_version_id", rep->ident->os.version_id);
	host_field(host, "os_pretty_name", rep->ident->os.pretty_name);
	host_field(host, "kernel_release", rep->ident->kernel_release);
	host_field(host, "arch", rep->ident->arch);
	json_object_set_new(root, "host", host);
	json_object_set_new(root, "verdict", json_string(verdict_name(rep->verdict)));
	json_object_set_new(root, "exit_code", json_integer(verdict_exit_code(rep->verdict)));

	for (unsigned i = 0; i < rep->run->n; i++) {
		const struct check_result *r = &rep->run->result[i];
		json_t *c = json_object(), *details = json_object(), *fixes = json_array();

		json_object_set_new(c, "id", json_string(rep->run->check[i]->id));
		json_object_set_new(c, "title", json_string(rep->run->check[i]->title));
		json_object_set_new(c, "status", json_string(check_status_name(r->status)));
		json_object_set_new(c, "summary", host_string(r->summary));
		for (unsigned j = 0; j < r->n_details; j++)
			json_object_set_new(details, r->details[j].key, detail_value(&r->details[j]));
		json_object_set_new(c, "details", details);
		for (unsigned j = 0; j < r->n_fixes; j++)
			json_array_append_new(fixes, json_string(r->fixes[j]));
		json_object_set_new(c, "fixes", fixes);
		if (r->advice[0])
			json_object_set_new(c, "advice", host_string(r->advice));
		json_object_set_new(c, "duration_us", json_integer((json_int_t)r->us));
		json_array_append_new(checks, c);
	}
	json_object_set_new(root, "checks", checks);
	return TAKE_PTR(root);
}

int report_json(FILE *out, const struct report *rep)
{
	json_auto_t *root = build(rep);

	if (!root)
		return -ENOMEM;
	if (json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return -EIO;
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

void report_time_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strtcpy(buf, "1970-01-01T00:00:00Z", size);
}
