// SPDX-License-Identifier: GPL-2.0-or-later
/* virt-doctor's command line: global options, a verb table, and the only place that prints errors. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "checks/check.h"
#include "checks/osrelease.h"
#include "host.h"
#include "report/report.h"
#include "util.h"
#include "version.h"

#define EXIT_USAGE 3	/* monitoring-plugin UNKNOWN: we could not decide */
#define PAYLOAD_MAX (1u << 20)	/* documented --payload limit; the VMM enforces it too */

enum output_format { FORMAT_TEXT, FORMAT_JSON };
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

static void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Global options: accepted before the verb and after it. */
enum {
	OPT_ROOT = 0x100, OPT_FORMAT, OPT_OUTPUT, OPT_COLOR, OPT_VERSION, OPT_NO_BOOT,
	OPT_VCPUS, OPT_MEMORY, OPT_TIMEOUT, OPT_PAYLOAD, OPT_DEEP,
};

#define GLOBAL_SHORTOPTS "+hqvo:"
#define VERB_SHORTOPTS "hqvo:"	/* a verb's options may follow its operands */
#define GLOBAL_LONGOPTS \
	{ "root", required_argument, NULL, OPT_ROOT }, \
	{ "format", required_argument, NULL, OPT_FORMAT }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "color", required_argument, NULL, OPT_COLOR }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "version", no_argument, NULL, OPT_VERSION }, \
	{ "help", no_argument, NULL, 'h' }

static void usage(FILE *out);

/* 1 = handled, 0 = not a global option, -1 = bad value (already reported). */
static int global_option(struct cli *cli, int c, const char *arg)
{
	switch (c) {
	case OPT_ROOT:
		cli->root = arg;
		return 1;
	case OPT_FORMAT:
		if (streq(arg, "text"))
			cli->format = FORMAT_TEXT;
		else if (streq(arg, "json"))
			cli->format = FORMAT_JSON;
		else {
			error("--format: '%s' is not one of text, json", arg);
			return -1;
		}
		return 1;
	case 'o':
		cli->output = arg;
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
			if (optopt)
				error("%s: unknown option '-%c'", argv[0], optopt);
			else
				error("%s: unknown option '%s'", argv[0], argv[optind - 1]);
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

/* Write the report to stdout, or atomically to --output (temp file + rename). */
static int emit(const struct cli *cli, const struct report *rep_in)
{
	struct report rep = *rep_in;
	_cleanup_free_ char *tmp = NULL;
	FILE *out = stdout;
	int r, fd;

	if (cli->output) {
		if (asprintf(&tmp, "%s.XXXXXX", cli->output) < 0)
			return -ENOMEM;
		fd = mkstemp(tmp);
		if (fd < 0) {
			r = -errno;
			error("--output %s: %s", cli->output, strerror(-r));
			return r;
		}
		fchmod(fd, 0644);
		out = fdopen(fd, "w");
		if (!out) {
			r = -errno;
			close(fd);
			unlink(tmp);
			error("--output %s: %s", cli->output, strerror(-r));
			return r;
		}
	}
	rep.color = want_color(cli, out);
	r = cli->format == FORMAT_JSON ? report_json(out, &rep) : report_text(out, &rep);
	if (cli->output) {
		if (fflush(out) != 0 || fsync(fileno(out)) < 0)
			r = r ?: -errno;
		if (fclose(out) != 0)
			r = r ?: -errno;
		if (r == 0 && rename(tmp, cli->output) < 0)
			r = -errno;
		if (r < 0) {
			unlink(tmp);
			error("--output %s: %s", cli->output, strerror(-r));
		}
	} else if (fflush(stdout) != 0) {
		r = -EIO;
	}
	return r;
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
	struct run run = { 0 };
	struct check_ctx ctx = { .host = &host, .opt = &cli->run, .run = &run };
	struct report rep = { 0 };
	struct host_identity ident;
	int r;

	if (open_host(cli, &host) < 0)
		return EXIT_USAGE;
	if (!n) {
		list = checks;
		n = n_checks;
	}
	run_prepare(&ctx, list, n);
	for (unsigned i = 0; i < n && run.n < ARRAY_SIZE(run.result); i++) {
		run.check[run.n] = list[i];
		run_check(&ctx, list[i], &run.result[run.n]);
		run.n++;
	}
	host_identify(&host, &ident);
	rep.run = &run;
	rep.host = &host;
	rep.ident = &ident;
	rep.verdict = run_verdict(&run);
	rep.verbose = cli->verbose || verbose;
	rep.quiet = cli->quiet;
	r = emit(cli, &rep);
	run_free(&run);
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

static int do_check(struct cli *cli, int argc, char **argv)
{
	const struct check *list[64];
	unsigned n = 0;
	int i = parse_verb_options(cli, argc, argv, run_longopts);

	if (i < 0)
		return EXIT_USAGE;
	for (; i < argc; i++) {
		const struct check *c = check_find(argv[i]);

		if (!c) {
			error("check: unknown check id '%s' (virt-doctor list shows them)", argv[i]);
			return EXIT_USAGE;
		}
		if (n < ARRAY_SIZE(list))
			list[n++] = c;
	}
	return run_and_report(cli, list, n, false);
}

/* A bad payload is bad usage (exit 3), not a host that failed to boot (exit 2). */
static int check_payload(const struct cli *cli)
{
	const char *path = cli->run.boot_payload;
	unsigned mem = cli->run.boot_memory_mib ? cli->run.boot_memory_mib : 16;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		error("--payload %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		error("--payload %s: not a regular file", path);
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
	if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
		error("cannot write JSON");
		return EXIT_USAGE;
	}
	putchar('\n');
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
		"  --format text|json    output format (default text)\n"
		"  -o, --output FILE     write the report to FILE (atomically)\n"
		"  --color auto|always|never\n"
		"  -q, --quiet           text: only problems and the verdict\n"
		"  -v, --verbose         text: details, advice and fix ids\n"
		"  --version, -h --help\n"
		"doctor/check: --no-boot    skip vm.smoke_boot\n"
		"              --deep       slower live probes: start QEMU with KVM (emulator.qemu);\n"
		"                           also accepted before the command\n"
		"boot: --vcpus N --memory MiB --timeout SEC --payload FILE\n\n"
		"Exit status: 0 ready, 1 degraded, 2 not ready, 3 unknown or usage error.\n");
}

int main(int argc, char **argv)
{
	/* --deep is also accepted before the verb, since `virt-doctor --deep` reads naturally. */
	static const struct option longopts[] = {
		GLOBAL_LONGOPTS,
		{ "deep", no_argument, NULL, OPT_DEEP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .run = { .boot = true } };
	const char *verb = "doctor";
	char *default_argv[] = { (char *)"doctor", NULL };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, GLOBAL_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		if (c == '?') {
			if (optopt)
				error("unknown option '-%c' (see --help)", optopt);
			else
				error("unknown option '%s' (see --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
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
