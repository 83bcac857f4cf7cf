// SPDX-License-Identifier: GPL-2.0-or-later
/* The plan and its outcome as text for people and as JSON (docs/fix.md, docs/fix.schema.json). */
#include <errno.h>
#include <jansson.h>

#include "fixes/fix.h"
#include "util.h"
#include "version.h"

/* Same rules as the report's (docs/report.md): major = breaking, minor = compatible additions. */
#define FIX_SCHEMA_VERSION "1.1.0"

/* Text from the distro data or the journal, never raw to a terminal (str_sanitize). */
static void put(FILE *out, const char *s)
{
	_cleanup_free_ char *clean = str_sanitize(s, STR_TEXT);

	fputs(clean ? clean : "?", out);
}

/* Words with spaces or shell metacharacters get quotes, so the line can be pasted; the text
 * comes from distro data, so it is sanitized first. */
static void print_word(FILE *out, const char *raw)
{
	_cleanup_free_ char *w = str_sanitize(raw, STR_TEXT);

	fput_shell_word(out, w ? w : "?");
}

static void print_argv(FILE *out, char *const *argv)
{
	for (unsigned i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', out);
		print_word(out, argv[i]);
	}
}

/*
 * What a step does, in one line: "apt-get install -y qemu", "write /etc/x", "load module tun".
 * The plan's form (full) also says how: "run: " with the environment, the file mode, libkmod,
 * and the text of a step for a person; progress lines use the short form.
 */
static void step_action(FILE *out, const struct step *s, bool full)
{
	switch (s->kind) {
	case STEP_COMMAND:
	case STEP_GROUP:
		if (full) {
			fputs("run: ", out);
			for (unsigned i = 0; i < ARRAY_SIZE(s->env) && s->env[i]; i++) {
				put(out, s->env[i]);
				fputc(' ', out);
			}
		}
		print_argv(out, s->argv);
		break;
	case STEP_WRITE:
		fputs("write ", out);
		put(out, s->path);
		if (full)
			fprintf(out, " (mode %04o)", s->mode);
		break;
	case STEP_KMOD:
		fputs("load module ", out);
		put(out, s->module);
		if (full)
			fputs(" (libkmod)", out);
		break;
	case STEP_SYSCTL:
		fputs("write ", out);
		put(out, s->content);
		fputs(" to ", out);
		put(out, s->path);
		break;
	case STEP_HUMAN:
		fputs(full ? "by hand: " : "by hand", out);
		if (full)
			put(out, s->content ? s->content : "");
		break;
	}
}

/* On a terminal the running line is redrawn in place: carriage return, erase to the end. */
static void progress_line(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s,
			  const uint64_t *elapsed_us)
{
	if (pg->tty)
		fputs("\r\033[K", pg->out);
	fprintf(pg->out, "%s: running: ", p->fix->id);
	step_action(pg->out, s, false);
	if (elapsed_us)
		fprintf(pg->out, " (%llu s)", (unsigned long long)(*elapsed_us / 1000000));
	if (!pg->tty)
		fputc('\n', pg->out);
	fflush(pg->out);
}

void fix_progress_start(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s)
{
	uint64_t zero = 0;

	if (pg && pg->out)
		progress_line(pg, p, s, pg->tty ? &zero : NULL);
}

void fix_progress_tick(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s,
		       uint64_t elapsed_us)
{
	if (pg && pg->out && pg->tty)
		progress_line(pg, p, s, &elapsed_us);
}

void fix_progress_end(const struct apply_progress *pg, const struct fix_plan *p, const struct step *s,
		      uint64_t elapsed_us)
{
	if (!pg || !pg->out)
		return;
	if (pg->tty)
		fputs("\r\033[K", pg->out);
	fprintf(pg->out, "%s: %s: ", p->fix->id, step_result_name(s->result));
	step_action(pg->out, s, false);
	fprintf(pg->out, " (%llu.%01llu s)", (unsigned long long)(elapsed_us / 1000000),
		(unsigned long long)(elapsed_us % 1000000 / 100000));
	if (s->note[0]) {
		fputs(": ", pg->out);
		put(pg->out, s->note);
	}
	fputc('\n', pg->out);
	fflush(pg->out);
}

static void print_step(FILE *out, const struct step *s, unsigned n, bool applied)
{
	fprintf(out, "   %u. ", n);
	step_action(out, s, true);
	if (s->kind != STEP_HUMAN)
		fprintf(out, "  [%s%s]", s->needs_root ? "root" : "user", s->live ? ", live" : ", file");
	fputc('\n', out);
	fputs("      why: ", out);
	put(out, s->why);
	fputc('\n', out);
	if (s->kind == STEP_WRITE && s->content) {
		const char *p = s->content;

		while (*p) {
			const char *eol = strchrnul(p, '\n');
			_cleanup_free_ char *line = strndup(p, (size_t)(eol - p));

			fputs("      | ", out);
			put(out, line ? line : "");
			fputc('\n', out);
			p = *eol ? eol + 1 : eol;
		}
	}
	if (s->guard == GUARD_EXIT_ZERO || s->guard == GUARD_OUTPUT || s->guard == GUARD_EVERY_LINE) {
		fputs("      skipped when: ", out);
		print_argv(out, s->guard_argv);
		if (s->guard != GUARD_EXIT_ZERO)
		{
			fputs(" says \"", out);
			put(out, s->guard_match);
			fputs(s->guard == GUARD_EVERY_LINE ? "\" on every line" : "\"", out);
		}
		else
			fputs(" succeeds", out);
		fputc('\n', out);
	} else if (s->guard == GUARD_GROUP_EXISTS) {
		fputs("      skipped when: group ", out);
		put(out, s->group);
		fputs(" exists\n", out);
	}
	if (applied && s->kind != STEP_HUMAN)
	{
		fprintf(out, "      -> %s%s", step_result_name(s->result), s->note[0] ? ": " : "");
		put(out, s->note);
		fputc('\n', out);
	}
}

/* The journal's last --apply started and never ended: killed, crashed, or the machine went
 * down. Say so before anything else, with what it got done. */
static void previous_text(FILE *out, const struct fix_report *r)
{
	const struct journal_state *j = r->previous;

	if (!j)
		return;
	if (j->found && !j->ended) {
		fputs("warning: the previous fix --apply (run ", out);
		put(out, j->run);
		fputs(" at ", out);
		put(out, j->started);
		fputs(") was interrupted ", out);
		if (j->steps) {
			fprintf(out, "after step %u of ", j->last.step);
			put(out, j->last.fix);
			fprintf(out, ": the journal lists %u completed step%s, the last %s", j->steps,
				j->steps == 1 ? "" : "s", j->last.action);
			if (j->last.target[0]) {
				fputc(' ', out);
				put(out, j->last.target);
			}
			fputs(" (", out);
			put(out, j->last.result);
			fputs(")", out);
		} else {
			fputs("before its first step", out);
		}
		fputs(". Files are replaced atomically, so each is old or new; fix --apply again "
		      "finishes the rest (completed steps stay unchanged).\n", out);
	}
	if (j->malformed) {
		fprintf(out, "warning: journal ");
		put(out, r->journal_path);
		fprintf(out, ": %u malformed line%s skipped (line %u%s of what was read: ", j->malformed,
			j->malformed == 1 ? "" : "s", j->first_bad_line, j->tail_only ? " of the last 1 MiB" : "");
		put(out, j->first_error);
		fputs(")\n", out);
	}
}

/* Every string in the plan may come from outside (os-release, passwd, SUDO_USER, distro data,
 * the journal): json_string() refuses bytes that are not UTF-8, which would lose the whole
 * document, so each goes through str_sanitize's JSON mode first (NULL only on ENOMEM). */
static json_t *jstr(const char *s)
{
	_cleanup_free_ char *clean = str_sanitize(s, STR_JSON);

	return clean ? json_string(clean) : NULL;
}

static json_t *previous_json(const struct fix_report *r)
{
	const struct journal_state *j = r->previous;
	json_t *o, *last = json_null();

	if (!j)
		return json_null();
	if (j->steps) {
		last = json_pack("{s:o, s:i, s:o, s:o, s:o}", "fix", jstr(j->last.fix), "step",
				 (int)j->last.step, "action", jstr(j->last.action), "result",
				 jstr(j->last.result), "target", jstr(j->last.target));
	}
	o = json_pack("{s:o, s:b, s:b}", "journal", jstr(r->journal_path), "found", j->found,
		      "interrupted", j->found && !j->ended);
	json_object_set_new(o, "run", j->found ? jstr(j->run) : json_null());
	json_object_set_new(o, "started", j->found ? jstr(j->started) : json_null());
	json_object_set_new(o, "outcome", j->ended ? jstr(j->outcome) : json_null());
	json_object_set_new(o, "completed_steps", json_integer(j->steps));
	json_object_set_new(o, "last_step", last);
	json_object_set_new(o, "malformed_lines", json_integer(j->malformed));
	json_object_set_new(o, "tail_only", json_boolean(j->tail_only));
	return o;
}

int fix_report_text(FILE *out, const struct fix_report *r)
{
	const struct fix_facts *f = r->facts;
	const struct os_release *os = &f->ident.os;

	fprintf(out, "virt-doctor fix: %s for ", r->applied ? "applied" : "plan");
	put(out, os->pretty_name[0] ? os->pretty_name : os->id[0] ? os->id : "an unknown system");
	fputc('\n', out);
	if (r->distro->generic) {
		fputs("distro data: none (", out);
		put(out, r->distro->matched_by);
		fputs("): a generic plan, commands given as steps for a person\n", out);
	} else {
		fputs("distro data: ", out);
		put(out, r->distro->file);
		fputs(" (", out);
		put(out, r->distro->name);
		fputs(", ", out);
		put(out, r->distro->matched_by);
		fputs(")\n", out);
	}
	previous_text(out, r);
	if (f->user[0]) {
		fputs("user: ", out);
		put(out, f->user);	/* from SUDO_USER or the root's passwd */
		fprintf(out, " (%s)\n", f->user_source ? f->user_source : "?");
	}
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
		json_array_append_new(a, jstr(argv[i]));
	return a;
}

static json_t *step_json(const struct step *s, bool applied)
{
	json_t *o = json_pack("{s:s, s:o, s:b, s:b}", "kind", step_kind_name(s->kind), "why", jstr(s->why),
			      "needs_root", s->needs_root, "live", s->live);

	switch (s->kind) {
	case STEP_COMMAND:
	case STEP_GROUP: {
		json_t *env = json_array();

		json_object_set_new(o, "argv", argv_json(s->argv));
		for (unsigned i = 0; i < ARRAY_SIZE(s->env) && s->env[i]; i++)
			json_array_append_new(env, jstr(s->env[i]));
		json_object_set_new(o, "env", env);
		json_object_set_new(o, "timeout_s", json_integer(s->timeout_s));
		if (s->kind == STEP_GROUP) {
			json_object_set_new(o, "user", jstr(s->user));
			json_object_set_new(o, "group", jstr(s->group));
		}
		break;
	}
	case STEP_WRITE:
		json_object_set_new(o, "path", jstr(s->path));
		json_object_set_new(o, "content", jstr(s->content ? s->content : ""));
		json_object_set_new(o, "mode", json_integer(s->mode));
		break;
	case STEP_KMOD:
		json_object_set_new(o, "module", jstr(s->module));
		break;
	case STEP_SYSCTL:
		json_object_set_new(o, "path", jstr(s->path));
		json_object_set_new(o, "value", jstr(s->content ? s->content : ""));
		break;
	case STEP_HUMAN:
		json_object_set_new(o, "text", jstr(s->content ? s->content : ""));
		break;
	}
	if (s->guard == GUARD_EXIT_ZERO || s->guard == GUARD_OUTPUT || s->guard == GUARD_EVERY_LINE) {
		json_t *g = json_pack("{s:o}", "argv", argv_json(s->guard_argv));

		if (s->guard == GUARD_OUTPUT)
			json_object_set_new(g, "output_contains", jstr(s->guard_match));
		if (s->guard == GUARD_EVERY_LINE)
			json_object_set_new(g, "every_line_contains", jstr(s->guard_match));
		json_object_set_new(o, "skip_when", g);
	} else if (s->guard == GUARD_GROUP_EXISTS) {
		json_object_set_new(o, "skip_when", json_pack("{s:o}", "group_exists", jstr(s->group)));
	}
	if (applied) {
		json_object_set_new(o, "result", jstr(step_result_name(s->result)));
		if (s->note[0])
			json_object_set_new(o, "note", jstr(s->note));
	}
	return o;
}

int fix_report_json(FILE *out, const struct fix_report *r)
{
	const struct fix_facts *f = r->facts;
	json_t *root, *items = json_array(), *distro;
	int ret;

	distro = json_pack("{s:o, s:o, s:b, s:o}", "id", jstr(f->ident.os.id), "name",
			   jstr(r->distro->name), "generic", r->distro->generic, "matched_by",
			   jstr(r->distro->matched_by));
	json_object_set_new(distro, "data_file", r->distro->generic ? json_null() : jstr(r->distro->file));
	for (unsigned i = 0; i < r->plan->n; i++) {
		const struct fix_plan *p = &r->plan->items[i];
		json_t *rem = json_array(), *by = json_array(), *steps = json_array(), *o;

		for (unsigned k = 0; k < REMEDIES_MAX && p->fix->remedies[k]; k++)
			json_array_append_new(rem, jstr(p->fix->remedies[k]));
		for (unsigned k = 0; k < p->n_suggested; k++)
			json_array_append_new(by, jstr(p->suggested_by[k]));
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
	json_object_set_new(root, "user", f->user[0] ? jstr(f->user) : json_null());
	json_object_set_new(root, "fixes", items);
	json_object_set_new(root, "exit_code", json_integer(r->exit_code));
	json_object_set_new(root, "previous_apply", previous_json(r));
	if (!root)
		return -ENOMEM;	/* jstr() or json_pack() ran out of memory */
	ret = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
	fputc('\n', out);
	json_decref(root);
	return ret;
}
