/* `pga report`: one self-contained HTML page from the central database (report/report.h) */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "report/chart.h"
#include "report/report.h"

/* The options (common/options.c) and the configuration into the report's. */
static int
resolve(struct report_opts *o, const struct pga_config *cfg, struct pga_err *err)
{
	const struct pga_args *a = &cfg->args;
	int64_t now = pga_now_us();

	memset(o, 0, sizeof(*o));
	o->out = a->output;
	o->explain = a->explain;
	o->top = (int)a->top;
	o->points = (int)a->points;
	o->conninfo = cfg->global.central;
	if (o->conninfo == NULL || *o->conninfo == '\0')
		return pga_fail(err, PGA_EINVAL,
				"no central database: give --db or set 'central' in [global]");
	o->schema = cfg->global.central_schema;
	if (a->report_collector.n > REPORT_FILTER_MAX || a->server.n > REPORT_FILTER_MAX)
		return pga_fail(err, PGA_EINVAL, "at most %d --collector and %d --server values",
				REPORT_FILTER_MAX, REPORT_FILTER_MAX);
	for (size_t i = 0; i < a->report_collector.n; i++)
		o->collectors[o->ncollectors++] = a->report_collector.v[i];
	for (size_t i = 0; i < a->server.n; i++)
		o->servers[o->nservers++] = a->server.v[i];
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	if (a->since && pga_parse_time(a->since, now, &o->since, err) < 0)
		return pga_err_prefix(err, "--since");
	if (a->until && pga_parse_time(a->until, now, &o->until, err) < 0)
		return pga_err_prefix(err, "--until");
	if (a->since && a->until && o->since >= o->until)
		return pga_fail(err, PGA_EINVAL, "--since must be before --until");
	return 0;
}

int
cmd_report(int argc, char **argv, struct pga_ctx *ctx)
{
	struct report_opts o;
	struct report_summary sum;
	struct pga_err err = {0};
	char size[32], since[40], until[40];
	int64_t t0;

	(void)argc;
	(void)argv;
	if (resolve(&o, ctx->cfg, &err) < 0)
		return pga_cli_usage(ctx->cmd, "%s", err.msg);
	t0 = pga_mono_us();
	if (report_write(&o, &sum, &err) < 0)
		return pga_cli_error(&err);
	fmt_value((double)sum.bytes, UNIT_BYTES, size, sizeof(size));
	fmt_time(sum.since, since, sizeof(since));
	fmt_time(sum.until, until, sizeof(until));
	/* the page itself may be on standard output: the summary goes to stderr then */
	fprintf(strcmp(o.out, "-") == 0 ? stderr : stdout,
		"report written to '%s': %s (%" PRIu64 " bytes), %d server%s, %d charts,"
		" window %s to %s, %.2f s (%d queries %.2f s, slowest '%s' %.2f s)\n", o.out, size,
		sum.bytes, sum.servers, sum.servers == 1 ? "" : "s", sum.charts, since, until,
		(double)(pga_mono_us() - t0) / 1e6, sum.queries, sum.query_seconds, sum.slowest,
		sum.slowest_seconds);
	if (sum.failed) {
		log_warn("report: some sections could not be computed; the page says which");
		return PGA_EXIT_PARTIAL;
	}
	return PGA_EXIT_OK;
}
