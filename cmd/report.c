/* `pga report`: one self-contained HTML page from the central database (report/report.h) */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"
#include "report/chart.h"
#include "report/report.h"

static const char *const report_help[] = {
	"usage: pga report [--db CONNINFO] -o FILE [--since T] [--until T]",
	"                  [--collector ID]... [--server ID]... [--top N]",
	"                  [--schema NAME] [--points N] [--explain FILE]",
	"",
	"  -o, --output FILE  the HTML page to write ('-': standard output); it is",
	"                     written beside, then renamed, with mode 0600",
	"  --db CONNINFO      central database (default: [global] central); a password",
	"                     here is refused (argv is public): use ~/.pgpass or the config",
	"  --since T, --until T",
	"                     the window: snapshots after T1 up to T2, ISO 8601 UTC or",
	"                     -2h, -7d (default: the 24 hours up to now)",
	"  --collector ID     only this collector (repeat for more)",
	"  --server ID        only this server: its id, target name or host (repeat)",
	"  --top N            entries per ranking (default 10, at most 100)",
	"  --schema NAME      schema of the central tables (default: central-schema)",
	"  --points N         points per chart (default 120, at most 240)",
	"  --explain FILE     write every query's plan (EXPLAIN ANALYZE) and time there",
	"",
	"The page needs nothing but itself: charts are inline SVG, it reads the same",
	"with JavaScript off, and it loads nothing from anywhere.",
	"Exit status: 0 written, 2 written but a section could not be computed,",
	"1 failure (nothing written), 64 usage.",
	NULL,
};

struct report_args {
	struct report_opts o;
	const char *db, *since, *until;
};

static int
add_filter(const char **list, size_t *n, const char *v, const char *what)
{
	if (*n == REPORT_FILTER_MAX)
		return pga_cli_usage(report_help, "at most %d %s values", REPORT_FILTER_MAX, what);
	if (*v == '\0')
		return pga_cli_usage(report_help, "empty %s", what);
	list[(*n)++] = v;
	return 0;
}

static int
parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int
parse_report_args(int argc, char **argv, struct report_args *a)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"collector", required_argument, NULL, 'c'},
		{"server", required_argument, NULL, 'v'},
		{"top", required_argument, NULL, 't'},
		{"schema", required_argument, NULL, 's'},
		{"points", required_argument, NULL, 'p'},
		{"explain", required_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'o': a->o.out = optarg; break;
		case 'S': a->since = optarg; break;
		case 'U': a->until = optarg; break;
		case 's': a->o.schema = optarg; break;
		case 'E': a->o.explain = optarg; break;
		case 'c':
			rc = add_filter(a->o.collectors, &a->o.ncollectors, optarg, "--collector");
			if (rc)
				return rc;
			break;
		case 'v':
			rc = add_filter(a->o.servers, &a->o.nservers, optarg, "--server");
			if (rc)
				return rc;
			break;
		case 't':
			if (parse_int(optarg, 1, REPORT_TOP_MAX, &a->o.top) < 0)
				return pga_cli_usage(report_help, "invalid --top '%s' (1 to %d)", optarg,
						     REPORT_TOP_MAX);
			break;
		case 'p':
			if (parse_int(optarg, 2, REPORT_POINTS_MAX, &a->o.points) < 0)
				return pga_cli_usage(report_help, "invalid --points '%s' (2 to %d)",
						     optarg, REPORT_POINTS_MAX);
			break;
		case 'h':
			pga_cli_help(report_help);
			return -1;
		default:
			return PGA_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return pga_cli_usage(report_help, "unexpected argument '%s'", argv[optind]);
	if (a->o.out == NULL)
		return pga_cli_usage(report_help, "report needs -o FILE");
	return 0;
}

static int
resolve(struct report_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	int64_t now = pga_now_us();

	if (a->db != NULL && pga_conninfo_no_password(a->db, "--db", err) < 0)
		return err->code;
	a->o.conninfo = a->db ? a->db : ctx->cfg->global.central;
	if (a->o.conninfo == NULL || *a->o.conninfo == '\0')
		return pga_fail(err, PGA_EINVAL,
				"no central database: give --db or set 'central' in [global]");
	if (a->o.schema == NULL)
		a->o.schema = ctx->cfg->global.central_schema;
	a->o.since = INT64_MIN;
	a->o.until = INT64_MAX;
	if (a->since && pga_parse_time(a->since, now, &a->o.since, err) < 0)
		return pga_err_prefix(err, "--since");
	if (a->until && pga_parse_time(a->until, now, &a->o.until, err) < 0)
		return pga_err_prefix(err, "--until");
	if (a->since && a->until && a->o.since >= a->o.until)
		return pga_fail(err, PGA_EINVAL, "--since must be before --until");
	return 0;
}

int
cmd_report(int argc, char **argv, struct pga_ctx *ctx)
{
	struct report_args a;
	struct report_summary sum;
	struct pga_err err = {0};
	char size[32], since[40], until[40];
	int64_t t0;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_report_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? PGA_EXIT_OK : rc;
	if (resolve(&a, ctx, &err) < 0)
		return pga_cli_usage(report_help, "%s", err.msg);
	t0 = pga_mono_us();
	if (report_write(&a.o, &sum, &err) < 0)
		return pga_cli_error(&err);
	fmt_value((double)sum.bytes, UNIT_BYTES, size, sizeof(size));
	fmt_time(sum.since, since, sizeof(since));
	fmt_time(sum.until, until, sizeof(until));
	/* the page itself may be on standard output: the summary goes to stderr then */
	fprintf(strcmp(a.o.out, "-") == 0 ? stderr : stdout,
		"report written to '%s': %s (%" PRIu64 " bytes), %d server%s, %d charts,"
		" window %s to %s, %.2f s (%d queries %.2f s, slowest '%s' %.2f s)\n", a.o.out, size,
		sum.bytes, sum.servers, sum.servers == 1 ? "" : "s", sum.charts, since, until,
		(double)(pga_mono_us() - t0) / 1e6, sum.queries, sum.query_seconds, sum.slowest,
		sum.slowest_seconds);
	if (sum.failed) {
		log_warn("report: some sections could not be computed; the page says which");
		return PGA_EXIT_PARTIAL;
	}
	return PGA_EXIT_OK;
}
