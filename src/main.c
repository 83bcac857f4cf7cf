// SPDX-License-Identifier: GPL-2.0-or-later
/* virt-doctor's command line: global options, a verb table, and the only place that prints errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "config.h"
#include "checks/check.h"
#include "checks/osrelease.h"
#include "fixes/fix.h"
#include "host.h"
#include "report/fleet.h"
#include "report/report.h"
#include "safefile.h"
#include "util.h"
#include "version.h"

#define EXIT_USAGE 3	/* monitoring-plugin UNKNOWN: we could not decide */
#define PAYLOAD_MAX (1u << 20)	/* documented --payload limit; the VMM enforces it too */

enum output_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_PROMETHEUS, FORMAT_CSV, FORMAT_NAGIOS };
static const char *const format_names[] = { "text", "json", "prometheus", "csv", "nagios" };
enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct cli {
	const char *root;
	enum output_format format;
	const char *output;
	enum color_mode color;
	bool quiet, verbose;
	struct run_options run;
};

static const char *program = "virt-doctor";

/*
 * Messages quote argv, paths and data files: the whole line goes through str_sanitize, so an
 * argument with ESC, a C1 control or a new line reaches the terminal as \xNN, never raw.
 */
static void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error(const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL, *clean = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		msg = NULL;
	clean = msg ? str_sanitize(msg, STR_TEXT) : NULL;
	fprintf(stderr, "%s: %s\n", program, clean ? clean : "out of memory formatting an error");
}

/* Global options: accepted before the verb and after it. */
enum {
	OPT_ROOT = 0x100, OPT_FORMAT, OPT_OUTPUT, OPT_COLOR, OPT_VERSION, OPT_NO_BOOT,
	OPT_VCPUS, OPT_MEMORY, OPT_TIMEOUT, OPT_PAYLOAD, OPT_APPLY, OPT_YES, OPT_ONLY, OPT_JOURNAL,
	OPT_DATA_DIR, OPT_STALE_AFTER, OPT_NOW, OPT_DEEP, OPT_LIST, OPT_NO_CACHE,
};

/* The whole command line, for the sudo line `fix --apply` prints when it is not root. */
static int orig_argc;
static char **orig_argv;

/* ':' first: a missing value is told from an unknown option. */
#define GLOBAL_SHORTOPTS "+:hqvo:"
#define VERB_SHORTOPTS ":hqvo:"	/* a verb's options may follow its operands */
#define GLOBAL_LONGOPTS \
	{ "root", required_argument, NULL, OPT_ROOT }, \
	{ "format", required_argument, NULL, OPT_FORMAT }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "color", required_argument, NULL, OPT_COLOR }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "version", no_argument, NULL, OPT_VERSION }, \
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE }, \
	{ "help", no_argument, NULL, 'h' }

static void usage(FILE *out);

/*
 * getopt_long said '?' or ':'. Name the option as it was typed: a long option's optopt is its
 * table value (OPT_ROOT is 0x100, which printed as '-\0'), an unknown one's is 0. The word is
 * argv[optind - 1] for every long-option error; a short option is named by its character.
 */
static void option_error(const char *verb, int c, char **argv, const struct option *longopts)
{
	const char *word = optind > 0 ? argv[optind - 1] : "";
	bool is_long = optopt == 0 || optopt > 0xff ||
		       (strchr(VERB_SHORTOPTS, optopt) && startswith(word, "--"));
	int len = is_long ? (int)strcspn(word, "=") : 0;
	const char *pre = verb ? verb : "", *sep = verb ? ": " : "";
	unsigned matches = 0;

	/* getopt_long says '?' with optopt 0 for an abbreviation of two options too. */
	for (const struct option *o = longopts; is_long && len > 2 && o->name; o++)
		matches += strncmp(o->name, word + 2, (size_t)len - 2) == 0;

	if (c == ':' && is_long)
		error("%s%soption '%.*s' needs a value", pre, sep, len, word);
	else if (c == ':')
		error("%s%soption '-%c' needs a value", pre, sep, optopt);
	else if (is_long && optopt)
		error("%s%soption '%.*s' takes no value", pre, sep, len, word);
	else if (is_long && matches > 1)
		error("%s%soption '%.*s' is ambiguous (see --help)", pre, sep, len, word);
	else if (is_long)
		error("%s%sunknown option '%.*s' (see --help)", pre, sep, len, word);
	else
		error("%s%sunknown option '-%c' (see --help)", pre, sep, optopt);
}

/* 1 = handled, 0 = not a global option, -1 = bad value (already reported). */
static int global_option(struct cli *cli, int c, const char *arg)
{
	switch (c) {
	case OPT_ROOT:
		cli->root = arg;
		return 1;
	case OPT_FORMAT:
		for (size_t i = 0; i < ARRAY_SIZE(format_names); i++)
			if (streq(arg, format_names[i])) {
				cli->format = (enum output_format)i;
				return 1;
			}
		error("--format: '%s' is not one of text, json, prometheus, csv, nagios", arg);
		return -1;
	case 'o':
		cli->output = streq(arg, "-") ? NULL : arg;	/* "-": standard output */
		return 1;
	case OPT_COLOR:
		if (streq(arg, "auto"))
			cli->color = COLOR_AUTO;
		else if (streq(arg, "always"))
			cli->color = COLOR_ALWAYS;
		else if (streq(arg, "never"))
			cli->color = COLOR_NEVER;
		else {
			error("--color: '%s' is not one of auto, always, never", arg);
			return -1;
		}
		return 1;
	case 'q':
		cli->quiet = true;
		return 1;
	case OPT_NO_CACHE:
		cli->run.no_cache = true;
		return 1;
	case 'v':
		cli->verbose = true;
		return 1;
	case OPT_VERSION:
		printf("virt-doctor %s\n", VIRT_DOCTOR_VERSION);
		exit(0);
	case 'h':
		usage(stdout);
		exit(0);
	default:
		return 0;
	}
}

static bool parse_uint(const char *opt, const char *arg, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < min || v > max) {
		error("%s: '%s' is not a number from %u to %u", opt, arg, min, max);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* Run-option parsing shared by doctor, check and boot. 1/0/-1 as global_option(). */
static int run_option(struct cli *cli, int c, const char *arg)
{
	unsigned v;

	switch (c) {
	case OPT_NO_BOOT:
		cli->run.boot = false;
		return 1;
	case OPT_DEEP:
		cli->run.deep = true;
		return 1;
	case OPT_VCPUS:
		if (!parse_uint("--vcpus", arg, 1, 8, &cli->run.boot_vcpus))
			return -1;
		return 1;
	case OPT_MEMORY:
		if (!parse_uint("--memory", arg, 2, 1024, &cli->run.boot_memory_mib))
			return -1;
		return 1;
	case OPT_TIMEOUT:
		if (!parse_uint("--timeout", arg, 1, 600, &v))
			return -1;
		cli->run.boot_timeout_ms = v * 1000;
		return 1;
	case OPT_PAYLOAD:
		cli->run.boot_payload = arg;
		return 1;
	default:
		return global_option(cli, c, arg);
	}
}

/* Parse a verb's argv (argv[0] is the verb). Returns optind, or -1 on a usage error. */
static int parse_verb_options(struct cli *cli, int argc, char **argv, const struct option *longopts)
{
	int c;

	optind = 0;	/* 0, not 1: glibc then resets its permutation state too */
	opterr = 0;
	while ((c = getopt_long(argc, argv, VERB_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		if (c == '?' || c == ':') {
			option_error(argv[0], c, argv, longopts);
			return -1;
		}
		r = run_option(cli, c, optarg);
		if (r < 0)
			return -1;
		if (r == 0) {
			error("%s: option not valid here", argv[0]);
			return -1;
		}
	}
	return optind;
}

static bool want_color(const struct cli *cli, FILE *out)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (cli->color != COLOR_AUTO)
		return cli->color == COLOR_ALWAYS;
	if (cli->output || (nc && *nc))
		return false;
	return isatty(fileno(out)) && !(term && streq(term, "dumb"));
}

typedef int (*render_fn)(FILE *out, const void *arg, bool color);

/*
 * Before any work: is --output a file we may replace? A FIFO, device node, socket, directory
 * or symlink there is refused now, not after the checks ran or the fixes were applied.
 */
static int output_check(const struct cli *cli)
{
	char why[256];
	int r;

	if (!cli->output)
		return 0;
	r = file_replace_check(cli->output, why, sizeof(why));
	if (r < 0)
		error("--output %s: %s", cli->output, why);
	return r;
}

/* errno of the first failed write to stdout: by exit, stdio may no longer know it. */
static int stdout_errno;

static void stdout_write(const char *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len && !stdout_errno)
		stdout_errno = errno;
}

/*
 * Render into memory, then to stdout, or to --output atomically (a temp file beside it,
 * fsync'd, renamed over it: FILE is always whole; an existing file keeps its mode and owner,
 * a new one is 0644 minus the umask). Errors writing stdout are caught at exit (close_stdout).
 */
static int write_output(const struct cli *cli, render_fn render, const void *arg)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	bool color = want_color(cli, stdout);
	FILE *mem = open_memstream(&buf, &len);
	char why[256];
	int r;

	if (!mem) {
		error("out of memory");
		return -ENOMEM;
	}
	r = render(mem, arg, color);
	if (fclose(mem) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		error("cannot render the output: %s", strerror(-r));
		return r;
	}
	if (!cli->output) {
		stdout_write(buf, len);
		return 0;
	}
	r = file_replace(cli->output, buf, len, 0644, REPLACE_KEEP, why, sizeof(why));
	if (r < 0)
		error("--output %s: %s", cli->output, why);
	return r;
}

/* At exit, as coreutils' close_stdout: output that could not be written is an error with a
 * message and exit status 3, never a silent success (`virt-doctor list >/dev/full`). */
static void close_stdout(void)
{
	bool prev = ferror(stdout);
	int r;

	errno = 0;
	r = fclose(stdout);
	if (prev || (r != 0 && errno != EBADF)) {
		int e = stdout_errno ? stdout_errno : r != 0 ? errno : 0;

		if (e)
			error("write error: %s", strerror(e));
		else
			error("write error");
		_exit(EXIT_USAGE);
	}
}

static int render_report(FILE *out, const void *arg, bool color)
{
	const struct report *in = arg;
	struct report rep = *in;

	rep.color = color;
	switch (rep.format) {
	case FORMAT_JSON:
		return report_json(out, &rep);
	case FORMAT_PROMETHEUS:
		return report_prometheus(out, &rep);
	case FORMAT_NAGIOS:
		return report_nagios(out, &rep);
	default:
		return report_text(out, &rep);
	}
}

static int emit(const struct cli *cli, const struct report *rep)
{
	return write_output(cli, render_report, rep);
}

static int open_host(const struct cli *cli, struct host *h)
{
	struct stat st;
	int r;

	if (cli->root) {
		if (stat(cli->root, &st) < 0) {
			error("--root %s: %s", cli->root, strerror(errno));
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			error("--root %s: not a directory", cli->root);
			return -ENOTDIR;
		}
	}
	r = host_init(h, cli->root);
	if (r < 0)
		error("--root %s: %s", cli->root ? cli->root : "/", strerror(-r));
	return r;
}

/* Gather, then render: run the given checks (all when n == 0) and print one report. */
static int run_and_report(struct cli *cli, const struct check *const *list, unsigned n, bool verbose)
{
	struct host host;
	/*
	 * ~220 KiB, mostly room for details no check uses: from calloc (fresh zero pages from
	 * mmap) only the pages a check touches are faulted in; zeroing it on the stack touched them
	 * all (209 pages before detail lists moved out of line; ~1 ms of faults on this PVM host).
	 */
	_cleanup_free_ struct run *run = calloc(1, sizeof(*run));
	struct check_ctx ctx = { .host = &host, .opt = &cli->run, .run = run };
	struct report rep = { 0 };
	struct host_identity ident;
	int r;

	if (cli->format == FORMAT_CSV) {
		error("--format csv is for fleet; a report is text, json, prometheus or nagios");
		return EXIT_USAGE;
	}
	if (!run) {
		error("out of memory");
		return EXIT_USAGE;
	}
	if (output_check(cli) < 0 || open_host(cli, &host) < 0)
		return EXIT_USAGE;
	rep.generated_at = time(NULL);
	rep.format = cli->format;
	if (!n) {
		list = checks;
		n = n_checks;
	}
	run_checks(&ctx, run, list, n);
	host_identify(&host, &ident);
	rep.run = run;
	rep.host = &host;
	rep.ident = &ident;
	rep.verdict = run_verdict(run);
	rep.verbose = cli->verbose || verbose;
	rep.quiet = cli->quiet;
	r = emit(cli, &rep);
	run_free(run);
	host_fini(&host);
	return r < 0 ? EXIT_USAGE : verdict_exit_code(rep.verdict);
}

static const struct option run_longopts[] = {
	GLOBAL_LONGOPTS,
	{ "no-boot", no_argument, NULL, OPT_NO_BOOT },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ NULL, 0, NULL, 0 },
};

static int do_doctor(struct cli *cli, int argc, char **argv)
{
	int i = parse_verb_options(cli, argc, argv, run_longopts);

	if (i < 0)
		return EXIT_USAGE;
	if (i < argc) {
		error("doctor: unexpected argument '%s' (to run some checks: virt-doctor check ID...)",
		      argv[i]);
		return EXIT_USAGE;
	}
	return run_and_report(cli, NULL, 0, false);
}

/*
 * Each id once, in the order first named: `check X X` ran X twice, and ids past the 64th were
 * dropped without a word. Deduplicated, there are never more than n_checks.
 */
static int do_check(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ const struct check **list = calloc(n_checks, sizeof(*list));
	unsigned n = 0;
	int i = parse_verb_options(cli, argc, argv, run_longopts);

	if (i < 0)
		return EXIT_USAGE;
	if (!list) {
		error("out of memory");
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		const struct check *c = check_find(argv[i]);
		unsigned k = 0;

		if (!c) {
			error("check: unknown check id '%s' (virt-doctor list shows them)", argv[i]);
			return EXIT_USAGE;
		}
		while (k < n && list[k] != c)
			k++;
		if (k == n)
			list[n++] = c;
	}
	return run_and_report(cli, list, n, false);
}

/* A bad payload is bad usage (exit 3), not a host that failed to boot (exit 2). */
static int check_payload(const struct cli *cli)
{
	const char *path = cli->run.boot_payload;
	unsigned mem = cli->run.boot_memory_mib ? cli->run.boot_memory_mib : 16;
	/* Looked at, never opened: a FIFO would block (before --timeout is armed) and a device
	 * node acts when opened. The VMM opens the file itself, the same careful way. */
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		error("--payload %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		error("--payload %s: is %s, not a regular file", path, file_kind(st.st_mode));
		return -EINVAL;
	}
	if (st.st_size == 0) {
		error("--payload %s: empty file", path);
		return -EINVAL;
	}
	if (st.st_size > PAYLOAD_MAX || (uint64_t)st.st_size >= (uint64_t)mem << 20) {
		error("--payload %s: %lld bytes, more than the %u KiB a payload may have", path,
		      (long long)st.st_size, PAYLOAD_MAX / 1024);
		return -EFBIG;
	}
	return 0;
}

static int do_boot(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "vcpus", required_argument, NULL, OPT_VCPUS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ NULL, 0, NULL, 0 },
	};
	const struct check *smoke = check_find("vm.smoke_boot");
	int i = parse_verb_options(cli, argc, argv, longopts);

	if (i < 0)
		return EXIT_USAGE;
	if (i < argc) {
		error("boot: unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	if (cli->run.boot_payload && check_payload(cli) < 0)
		return EXIT_USAGE;
	cli->run.boot = true;
	return run_and_report(cli, &smoke, 1, true);
}

static int print_json(json_t *j)
{
	/* Into memory first: a write error on stdout is close_stdout()'s to report, once. */
	_cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (!text) {
		error("cannot render JSON: out of memory");
		return EXIT_USAGE;
	}
	stdout_write(text, strlen(text));
	stdout_write("\n", 1);
	return 0;
}

static int do_list(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	int i = parse_verb_options(cli, argc, argv, longopts);

	if (i < 0)
		return EXIT_USAGE;
	if (cli->format == FORMAT_JSON) {
		json_auto_t *a = json_array();

		for (unsigned k = 0; k < n_checks; k++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "id", checks[k]->id,
							   "title", checks[k]->title, "live_only",
							   !!(checks[k]->flags & CHECK_LIVE_ONLY)));
		return print_json(a);
	}
	for (unsigned k = 0; k < n_checks; k++)
		printf("%-22s %s%s\n", checks[k]->id, checks[k]->title,
		       checks[k]->flags & CHECK_LIVE_ONLY ? " (live only)" : "");
	return 0;
}

static int do_explain(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	const struct check *c;
	int i = parse_verb_options(cli, argc, argv, longopts);

	if (i < 0)
		return EXIT_USAGE;
	if (argc - i != 1) {
		error("explain: needs exactly one check id (virt-doctor list shows them)");
		return EXIT_USAGE;
	}
	c = check_find(argv[i]);
	if (!c) {
		error("explain: unknown check id '%s' (virt-doctor list shows them)", argv[i]);
		return EXIT_USAGE;
	}
	if (cli->format == FORMAT_JSON) {
		json_auto_t *o = json_pack("{s:s, s:s, s:b, s:s}", "id", c->id, "title", c->title,
					   "live_only", !!(c->flags & CHECK_LIVE_ONLY), "explain", c->explain);

		return print_json(o);
	}
	printf("%s - %s\n\n%s\n", c->id, c->title, c->explain);
	return 0;
}

static bool confirm(unsigned n_fixes_planned)
{
	char answer[16];

	fprintf(stderr, "Apply %u fix(es) as shown above? [y/N] ", n_fixes_planned);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

static int render_fix(FILE *out, const void *arg, bool color)
{
	const struct { const struct fix_report *rep; bool json; } *a = arg;

	(void)color;
	return a->json ? fix_report_json(out, a->rep) : fix_report_text(out, a->rep);
}

/* The plan to stdout or -o FILE, as write_output() does for reports. */
static int emit_fix(const struct cli *cli, const struct fix_report *rep)
{
	struct { const struct fix_report *rep; bool json; } arg = { rep, cli->format == FORMAT_JSON };

	return write_output(cli, render_fix, &arg);
}

static int do_fix(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "apply", no_argument, NULL, OPT_APPLY },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "journal", required_argument, NULL, OPT_JOURNAL },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "list", no_argument, NULL, OPT_LIST },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ const char **only = calloc(n_fixes, sizeof(*only));
	const char *journal = NULL, *data_dir = NULL;
	unsigned n_only = 0, k;
	bool apply = false, yes = false;
	struct distro_set set;
	struct distro distro;
	struct fix_facts facts;
	struct host host;
	struct run *run;
	struct plan plan;
	struct fix_report rep = { 0 };
	struct journal_state previous;
	char dir[4096], err[512];
	int c, code;

	if (!only) {
		error("out of memory");
		return EXIT_USAGE;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, VERB_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_APPLY:
			apply = true;
			continue;
		case OPT_YES:
			yes = true;
			continue;
		case OPT_ONLY:
			if (!fix_find(optarg)) {
				error("fix: unknown fix id '%s' (docs/fix.md lists them)", optarg);
				return EXIT_USAGE;
			}
			/* Each id once, so n_only never passes n_fixes and none is dropped. */
			for (k = 0; k < n_only && !streq(only[k], optarg); k++)
				;
			if (k == n_only)
				only[n_only++] = optarg;
			continue;
		case OPT_JOURNAL:
			journal = optarg;
			continue;
		case OPT_DATA_DIR:
			data_dir = optarg;
			continue;
		case OPT_LIST:
			/* The fix ids and what each does: for --only and shell completion. */
			for (unsigned i = 0; i < n_fixes; i++)
				printf("%-34s %s\n", fixes[i].id, fixes[i].help);
			return 0;
		case '?':
		case ':':
			option_error("fix", c, argv, longopts);
			return EXIT_USAGE;
		default:
			if (global_option(cli, c, optarg) <= 0) {
				if (c != '?')
					error("fix: option not valid here");
				return EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		error("fix: unexpected argument '%s' (to pick fixes: --only ID)", argv[optind]);
		return EXIT_USAGE;
	}
	if (cli->format == FORMAT_PROMETHEUS || cli->format == FORMAT_CSV || cli->format == FORMAT_NAGIOS) {
		error("fix: --format %s is not a plan format; use text or json", format_names[cli->format]);
		return EXIT_USAGE;
	}
	if (output_check(cli) < 0)
		return EXIT_USAGE;	/* before anything is applied */
	if (apply && geteuid() != 0) {
		/* Refuse before reading anything: half a plan applied as a user helps nobody. */
		fprintf(stderr, "%s: fix --apply changes the system and needs root. Run:\n  sudo", program);
		for (int i = 0; i < orig_argc; i++) {
			fputc(' ', stderr);
			fput_shell_word(stderr, orig_argv[i]);
		}
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	if (distro_data_dir(data_dir, dir, sizeof(dir)) < 0) {
		error("fix: no distribution data found (looked in $VIRT_DOCTOR_DATADIR and %s/distros); "
		      "use --data-dir DIR", VD_DATADIR);
		return EXIT_USAGE;
	}
	if (distro_set_load(&set, dir, err, sizeof(err)) < 0) {
		_cleanup_free_ char *clean = str_sanitize(err, STR_TEXT);	/* quotes the data file */

		error("%s", clean ? clean : err);
		return EXIT_USAGE;
	}
	if (open_host(cli, &host) < 0) {
		distro_set_free(&set);
		return EXIT_USAGE;
	}
	run = calloc(1, sizeof(*run));
	if (!run) {
		distro_set_free(&set);
		host_fini(&host);
		return EXIT_USAGE;
	}
	{
		struct host_identity id;
		struct run_options opt = { .boot = false, .no_cache = cli->run.no_cache };	/* facts, not a boot */
		struct check_ctx ctx = { .host = &host, .opt = &opt, .run = run };

		host_identify(&host, &id);
		distro_select(&set, &id.os, &distro);
		fix_facts_gather(&host, &id, &distro, &facts);
		run_checks_no_boot(&ctx, run);
		fix_facts_from_run(&facts, run);
	}
	{
		struct plan_ctx pctx = { .host = &host, .distro = &distro, .facts = &facts };

		plan_build(&pctx, run, only, n_only, &plan);
	}
	rep.plan = &plan;
	rep.distro = &distro;
	rep.facts = &facts;
	rep.data_dir = dir;
	rep.offline = !host.live;
	/* Before this run appends its own lines: did the last --apply finish? */
	if (fix_journal_read(&host, journal, &previous) == 0)
		rep.previous = &previous;
	rep.journal_path = journal ? journal : "/var/log/virt-doctor/journal.jsonl";
	code = 0;
	if (apply && plan.n) {
		struct apply_progress pg = { .out = stderr, .tty = isatty(STDERR_FILENO) };
		struct apply_opts ao = { .offline = !host.live, .journal_fd = -1, .argv = orig_argv,
					 .argc = orig_argc, .progress = &pg };
		char why[256];

		if (!yes && !isatty(STDIN_FILENO)) {
			error("fix --apply: standard input is not a terminal, so I cannot ask; "
			      "add --yes to apply without asking");
			code = EXIT_USAGE;
			goto out;
		}
		if (!yes) {
			struct fix_report preview = rep;

			fix_report_text(stderr, &preview);
			if (!confirm(plan.n)) {
				error("fix --apply: not confirmed; nothing was changed");
				code = EXIT_USAGE;
				goto out;
			}
		}
		/* The journal is how an interrupted apply is found later: no journal, no apply.
		 * Only a regular file (or none yet) is appended to; nothing here blocks. */
		ao.journal_fd = fix_journal_open(&host, journal, why, sizeof(why));
		if (ao.journal_fd < 0) {
			error("fix --apply: journal %s%s: %s; nothing was changed",
			      journal || host.live ? "" : host.root, rep.journal_path, why);
			code = EXIT_USAGE;
			goto out;
		}
		rep.mutated = plan_apply(&host, &plan, &ao);
		close(ao.journal_fd);
		plan_verify(&host, &plan, ao.offline);
		rep.applied = true;
	} else if (apply) {
		rep.applied = true;
	}
	rep.exit_code = fix_exit_code(&plan, rep.applied);
	code = emit_fix(cli, &rep) < 0 ? EXIT_USAGE : rep.exit_code;
out:
	plan_free(&plan);
	distro_free(&distro);
	distro_set_free(&set);
	run_free(run);
	free(run);
	host_fini(&host);
	return code;
}

static int render_fleet(FILE *out, const void *arg, bool color)
{
	const struct { const struct fleet *f; enum fleet_format fmt; } *a = arg;

	(void)color;
	return fleet_render(out, a->f, a->fmt);
}

static int do_fleet(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "stale-after", required_argument, NULL, OPT_STALE_AFTER },
		{ "now", required_argument, NULL, OPT_NOW },
		{ NULL, 0, NULL, 0 },
	};
	struct fleet_options o = { .now = time(NULL), .stale_after = 7 * 86400 };
	struct { const struct fleet *f; enum fleet_format fmt; } arg;
	struct fleet *f = NULL;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, VERB_SHORTOPTS, longopts, NULL)) != -1) {
		if (c == OPT_STALE_AFTER) {
			if (fleet_parse_duration(optarg, &o.stale_after) < 0) {
				error("--stale-after: '%s' is not a duration like 90s, 12h, 7d or 2w", optarg);
				return EXIT_USAGE;
			}
		} else if (c == OPT_NOW) {
			if (fleet_parse_time(optarg, &o.now) < 0) {
				error("--now: '%s' is not an RFC 3339 time or @EPOCH from 1970 to 9999", optarg);
				return EXIT_USAGE;
			}
		} else if (c == '?' || c == ':') {
			option_error("fleet", c, argv, longopts);
			return EXIT_USAGE;
		} else if (global_option(cli, c, optarg) <= 0)
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		error("fleet: needs report files or directories of them (fleet REPORT... | DIR)");
		return EXIT_USAGE;
	}
	if (cli->format == FORMAT_PROMETHEUS || cli->format == FORMAT_NAGIOS) {
		error("--format %s is for one host's report; fleet writes text, json or csv",
		      format_names[cli->format]);
		return EXIT_USAGE;
	}
	if (output_check(cli) < 0)
		return EXIT_USAGE;
	o.all_names = cli->verbose;
	r = fleet_load(&f, argv + optind, (unsigned)(argc - optind), &o);
	if (r < 0) {
		error("fleet: %s", strerror(-r));
		return EXIT_USAGE;
	}
	arg.f = f;
	arg.fmt = cli->format == FORMAT_JSON ? FLEET_JSON : cli->format == FORMAT_CSV ? FLEET_CSV : FLEET_TEXT;
	r = write_output(cli, render_fleet, &arg);
	c = r < 0 ? EXIT_USAGE : fleet_exit_code(f);
	fleet_free(f);
	return c;
}

struct verb {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *help;
};

static const struct verb verbs[] = {
	{ .name = "doctor", .fn = do_doctor, .help = "run every check and give the verdict (default)" },
	{ .name = "check", .fn = do_check, .help = "run the named checks (or all): check [ID...]" },
	{ .name = "boot", .fn = do_boot, .help = "boot the built-in smoke guest and time each stage" },
	{ .name = "list", .fn = do_list, .help = "list every check id with its title" },
	{ .name = "explain", .fn = do_explain, .help = "explain a check: what, why, how to fix" },
	{ .name = "fix", .fn = do_fix, .help = "plan the fixes for failing checks; --apply carries them out" },
	{ .name = "fleet", .fn = do_fleet, .help = "merge many JSON reports: fleet REPORT... | DIR" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTIONS] [COMMAND] [ARGS]\n"
		"Can this host run KVM guests, and if not, what exactly do I do?\n\n"
		"Commands:\n", program);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(out,
		"\nOptions (before or after the command):\n"
		"  --root DIR            inspect a filesystem tree instead of this host (no live probes)\n"
		"  --format FORMAT       text (default), json, prometheus or nagios (a report), csv (fleet)\n"
		"  -o, --output FILE     write the report to FILE (atomically)\n"
		"  --color auto|always|never\n"
		"  -q, --quiet           text: only problems and the verdict\n"
		"  -v, --verbose         text: details, advice and fix ids\n"
		"  --no-cache            probe QEMU afresh: neither read nor write the probe cache\n"
		"  --version, -h --help\n"
		"doctor/check: --no-boot    skip vm.smoke_boot\n"
		"              --deep       slower live probes: start QEMU with KVM (emulator.qemu)\n"
		"              both also before the command; with none, they are doctor's\n"
		"boot: --vcpus N --memory MiB --timeout SEC --payload FILE\n"
		"fix: --apply --yes --only ID... --journal FILE --data-dir DIR --list\n"
		"fleet: --stale-after DURATION (default 7d)  --now TIME (RFC 3339 or @EPOCH)\n\n"
		"Exit status: 0 ready, 1 degraded, 2 not ready, 3 unknown or usage error.\n");
}

int main(int argc, char **argv)
{
	/*
	 * The default verb's options before any verb: `virt-doctor --no-boot` is `virt-doctor
	 * doctor --no-boot`, as the usage line promises. --deep is accepted before any verb (it
	 * always was); --no-boot only before doctor or check, the verbs it means something to.
	 */
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "deep", no_argument, NULL, OPT_DEEP },
		{ "no-boot", no_argument, NULL, OPT_NO_BOOT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .run = { .boot = true } };
	const char *verb = "doctor", *no_boot = NULL;
	char *default_argv[] = { (char *)"doctor", NULL };
	int c;

	orig_argc = argc;
	orig_argv = argv;
	atexit(close_stdout);
	opterr = 0;
	while ((c = getopt_long(argc, argv, GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		if (c == '?' || c == ':') {
			option_error(NULL, c, argv, longopts);
			return EXIT_USAGE;
		}
		if (c == OPT_NO_BOOT)
			no_boot = argv[optind - 1];
		r = run_option(&cli, c, optarg);
		if (r <= 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		verb = argv[optind];
	else {
		argv = default_argv;
		argc = 1;
		optind = 0;
	}
	if (no_boot && !streq(verb, "doctor") && !streq(verb, "check")) {
		error("%s: an option of doctor and check, not of '%s' (see --help)", no_boot, verb);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(verbs[i].name, verb))
			return verbs[i].fn(&cli, argc - optind, argv + optind);
	if (streq(verb, "help")) {
		usage(stdout);
		return 0;
	}
	error("unknown command '%s' (see --help)", verb);
	return EXIT_USAGE;
}
