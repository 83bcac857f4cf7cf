// SPDX-License-Identifier: GPL-2.0-or-later
/* The plan and its outcome as text for people and as JSON (docs/fix.md, docs/fix.schema.json). */
#include <errno.h>
#include <jansson.h>

#include "fixes/fix.h"
#include "util.h"
#include "version.h"

/* Same rules as the report's (docs/report.md): major = breaking, minor = compatible additions. */
#define FIX_SCHEMA_VERSION "1.0.0"

static void print_argv(FILE *out, char *const *argv)
{
	for (unsigned i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', out);
		fput_shell_word(out, argv[i]);
	}
}

static void print_step(FILE *out, const struct step *s, unsigned n, bool applied)
{
	fprintf(out, "   %u. ", n);
	switch (s->kind) {
	case STEP_COMMAND:
	case STEP_GROUP:
		fputs("run: ", out);
		for (unsigned i = 0; i < ARRAY_SIZE(s->env) && s->env[i]; i++)
			fprintf(out, "%s ", s->env[i]);
		print_argv(out, s->argv);
		break;
	case STEP_WRITE:
		fprintf(out, "write %s (mode %04o)", s->path, s->mode);
		break;
	case STEP_KMOD:
		fprintf(out, "load module %s (libkmod)", s->module);
		break;
	case STEP_SYSCTL:
		fprintf(out, "write %s to %s", s->content, s->path);
		break;
	case STEP_HUMAN:
		fprintf(out, "by hand: %s", s->content ? s->content : "");
		break;
	}
	if (s->kind != STEP_HUMAN)
		fprintf(out, "  [%s%s]", s->needs_root ? "root" : "user", s->live ? ", live" : ", file");
	fputc('\n', out);
	fprintf(out, "      why: %s\n", s->why);
	if (s->kind == STEP_WRITE && s->content) {
		const char *p = s->content;

		while (*p) {
			const char *eol = strchrnul(p, '\n');

			fprintf(out, "      | %.*s\n", (int)(eol - p), p);
			p = *eol ? eol + 1 : eol;
		}
	}
	if (s->guard == GUARD_EXIT_ZERO || s->guard == GUARD_OUTPUT) {
		fputs("      skipped when: ", out);
		print_argv(out, s->guard_argv);
		if (s->guard == GUARD_OUTPUT)
			fprintf(out, " says \"%s\"", s->guard_match);
		else
			fputs(" succeeds", out);
		fputc('\n', out);
	} else if (s->guard == GUARD_GROUP_EXISTS) {
		fprintf(out, "      skipped when: group %s exists\n", s->group);
	}
	if (applied && s->kind != STEP_HUMAN)
		fprintf(out, "      -> %s%s%s\n", step_result_name(s->result), s->note[0] ? ": " : "", s->note);
}

int fix_report_text(FILE *out, const struct fix_report *r)
{
	const struct fix_facts *f = r->facts;
	const struct os_release *os = &f->ident.os;

	fprintf(out, "virt-doctor fix: %s for %s\n", r->applied ? "applied" : "plan",
		os->pretty_name[0] ? os->pretty_name : os->id[0] ? os->id : "an unknown system");
	if (r->distro->generic)
		fprintf(out, "distro data: none (%s): a generic plan, commands given as steps for a person\n",
			r->distro->matched_by);
	else
		fprintf(out, "distro data: %s (%s, %s)\n", r->distro->file, r->distro->name, r->distro->matched_by);
	if (f->user[0])
		fprintf(out, "user: %s (%s)\n", f->user, f->user_source ? f->user_source : "?");
	if (r->offline && r->applied)
		fputs("offline root: files were written inside the root; live actions are listed, not run\n", out);
	if (!r->plan->n) {
		fputs("\nNothing to fix: no failing check suggests a fix.\n", out);
		return 0;
	}
	for (unsigned i = 0; i < r->plan->n; i++) {
		const struct fix_plan *p = &r->plan->items[i];

		fprintf(out, "\n[%u] %s: %s\n", i + 1, p->fix->id, p->fix->help);
		fputs("    remedies:", out);
		for (unsigned k = 0; k < REMEDIES_MAX && p->fix->remedies[k]; k++)
			fprintf(out, " %s", p->fix->remedies[k]);
		if (p->forced)
			fputs("; asked for with --only", out);
		else {
			fputs("; suggested by:", out);
			for (unsigned k = 0; k < p->n_suggested; k++)
				fprintf(out, " %s", p->suggested_by[k]);
		}
		fputc('\n', out);
		for (unsigned k = 0; k < p->n_steps; k++)
			print_step(out, &p->steps[k], k + 1, r->applied);
		if (r->applied && p->state) {
			fprintf(out, "    result: %s", p->state);
			for (unsigned k = 0; k < p->n_check_status; k++)
				fprintf(out, "%s%s %s", k ? ", " : " (", p->check_status[k][0], p->check_status[k][1]);
			fputs(p->n_check_status ? ")\n" : "\n", out);
		}
	}
	if (!r->applied)
		fputs("\nNothing was changed. To apply: virt-doctor fix --apply (as root).\n", out);
	else
		fprintf(out, "\nmutated: %s\n", r->mutated ? "true" : "false");
	return 0;
}

static json_t *argv_json(char *const *argv)
{
	json_t *a = json_array();

	for (unsigned i = 0; argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

static json_t *step_json(const struct step *s, bool applied)
{
	json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "kind", step_kind_name(s->kind), "why", s->why,
			      "needs_root", s->needs_root, "live", s->live);

	switch (s->kind) {
	case STEP_COMMAND:
	case STEP_GROUP: {
		json_t *env = json_array();

		json_object_set_new(o, "argv", argv_json(s->argv));
		for (unsigned i = 0; i < ARRAY_SIZE(s->env) && s->env[i]; i++)
			json_array_append_new(env, json_string(s->env[i]));
		json_object_set_new(o, "env", env);
		json_object_set_new(o, "timeout_s", json_integer(s->timeout_s));
		if (s->kind == STEP_GROUP) {
			json_object_set_new(o, "user", json_string(s->user));
			json_object_set_new(o, "group", json_string(s->group));
		}
		break;
	}
	case STEP_WRITE:
		json_object_set_new(o, "path", json_string(s->path));
		json_object_set_new(o, "content", json_string(s->content ? s->content : ""));
		json_object_set_new(o, "mode", json_integer(s->mode));
		break;
	case STEP_KMOD:
		json_object_set_new(o, "module", json_string(s->module));
		break;
	case STEP_SYSCTL:
		json_object_set_new(o, "path", json_string(s->path));
		json_object_set_new(o, "value", json_string(s->content ? s->content : ""));
		break;
	case STEP_HUMAN:
		json_object_set_new(o, "text", json_string(s->content ? s->content : ""));
		break;
	}
	if (s->guard == GUARD_EXIT_ZERO || s->guard == GUARD_OUTPUT) {
		json_t *g = json_pack("{s:o}", "argv", argv_json(s->guard_argv));

		if (s->guard == GUARD_OUTPUT)
			json_object_set_new(g, "output_contains", json_string(s->guard_match));
		json_object_set_new(o, "skip_when", g);
	} else if (s->guard == GUARD_GROUP_EXISTS) {
		json_object_set_new(o, "skip_when", json_pack("{s:s}", "group_exists", s->group));
	}
	if (applied) {
		json_object_set_new(o, "result", json_string(step_result_name(s->result)));
		if (s->note[0])
			json_object_set_new(o, "note", json_string(s->note));
	}
	return o;
}

int fix_report_json(FILE *out, const struct fix_report *r)
{
	const struct fix_facts *f = r->facts;
	json_t *root, *items = json_array(), *distro;
	int ret;

	distro = json_pack("{s:s, s:s, s:b, s:s}", "id", f->ident.os.id, "name", r->distro->name,
			   "generic", r->distro->generic, "matched_by", r->distro->matched_by);
	json_object_set_new(distro, "data_file", r->distro->generic ? json_null() : json_string(r->distro->file));
	for (unsigned i = 0; i < r->plan->n; i++) {
		const struct fix_plan *p = &r->plan->items[i];
		json_t *rem = json_array(), *by = json_array(), *steps = json_array(), *o;

		for (unsigned k = 0; k < REMEDIES_MAX && p->fix->remedies[k]; k++)
			json_array_append_new(rem, json_string(p->fix->remedies[k]));
		for (unsigned k = 0; k < p->n_suggested; k++)
			json_array_append_new(by, json_string(p->suggested_by[k]));
		for (unsigned k = 0; k < p->n_steps; k++)
			json_array_append_new(steps, step_json(&p->steps[k], r->applied));
		o = json_pack("{s:s, s:s, s:o, s:o, s:b, s:o}", "id", p->fix->id, "help", p->fix->help,
			      "remedies", rem, "suggested_by", by, "forced", p->forced, "steps", steps);
		if (r->applied && p->state) {
			json_t *cs = json_array();

			for (unsigned k = 0; k < p->n_check_status; k++)
				json_array_append_new(cs, json_pack("{s:s, s:s}", "id", p->check_status[k][0],
								    "status", p->check_status[k][1]));
			json_object_set_new(o, "outcome", json_pack("{s:s, s:o}", "state", p->state, "checks", cs));
		}
		json_array_append_new(items, o);
	}
	root = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:o}", "kind", "fix-plan", "schema_version",
			 FIX_SCHEMA_VERSION, "tool_version", VIRT_DOCTOR_VERSION, "applied", r->applied,
			 "offline_root", r->offline, "mutated", r->mutated, "distro", distro);
	json_object_set_new(root, "user", f->user[0] ? json_string(f->user) : json_null());
	json_object_set_new(root, "fixes", items);
	json_object_set_new(root, "exit_code", json_integer(r->exit_code));
	ret = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
	fputc('\n', out);
	json_decref(root);
	return ret;
}
