/*
 * `pga status [--json] [--spool DIR] [--central [--db CONNINFO]]`
 *
 * The operator's one-screen view, from the reports of three parts: the
 * spool's summary (segments waiting, their age, usage against spool-max,
 * open and quarantined segments) with every part's counters, then each
 * destination's delivery state (ship_status), then, with --central, every
 * collector as the central database sees it (load_status_central).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"
#include "load/load.h"
#include "ship/ship.h"
#include "spool/spool.h"

struct status_args {
	const char *spool;
	const char *db;
	bool json;
	bool central;
};

/* The text view shows these; --json shows all. */
static const char *const shown[] = {
	"segments_sealed", "blocks_written", "rows_written", "segments_recovered",
	"bytes_torn", "segments_dropped", "blocks_dropped", "blocks_refused",
	"blocks_failed", "segments_quarantined", "cycles", "cycles_failed",
	"cycles_skipped", "targets_failed", "snapshots_complete", "snapshots_partial",
	"metric_errors", "values_escaped", "segments_shipped", "ship_errors",
};

static uint64_t
counter_value(const struct cmd_counters *c, const char *name)
{
	for (size_t s = 0; s < CMD_COUNTER_SETS; s++)
		for (size_t i = 0; i < cmd_counter_sets[s]->n; i++)
			if (strcmp(cmd_counter_sets[s]->names[i], name) == 0)
				return c->v[s].v[i];
	return 0;
}

static void
print_spool_text(const char *path, const struct spool_summary *s,
		 const struct cmd_counters *c, uint64_t max)
{
	char used[16], cap[16], bytes[16], age[24] = "";

	pga_format_size(s->usage, used, sizeof(used));
	pga_format_size(max, cap, sizeof(cap));
	pga_format_size(s->bytes, bytes, sizeof(bytes));
	if (s->oldest_us != 0) {
		strcpy(age, ", oldest ");
		pga_format_duration(pga_now_us() - s->oldest_us, age + 9, sizeof(age) - 9);
		strcat(age, " old");
	}
	printf("spool %s\n", path);
	printf("  usage         %s of %s (%.0f%%)\n", used, cap,
	       max ? 100.0 * (double)s->usage / (double)max : 0.0);
	printf("  sealed        %zu segments, %s%s\n", s->sealed, bytes, age);
	printf("  quarantined   %zu%s\n", s->quarantined,
	       s->quarantined ? "  <- look at quarantine/*.why" : "");
	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		printf("  %-22s %" PRIu64 "\n", shown[i], counter_value(c, shown[i]));
}

static void
print_spool_json(struct jsonw *j, const char *path, const struct spool_summary *s,
		 const struct cmd_counters *c, uint64_t max)
{
	jsonw_key(j, "spool");
	jsonw_obj_open(j);
	jsonw_key(j, "path"); jsonw_str(j, path);
	jsonw_key(j, "usage"); jsonw_u64(j, s->usage);
	jsonw_key(j, "spool_max"); jsonw_u64(j, max);
	jsonw_key(j, "sealed"); jsonw_u64(j, s->sealed);
	jsonw_key(j, "sealed_bytes"); jsonw_u64(j, s->bytes);
	jsonw_key(j, "oldest"); jsonw_time(j, s->oldest_us);
	jsonw_key(j, "quarantined"); jsonw_u64(j, s->quarantined);
	jsonw_key(j, "counters");
	jsonw_obj_open(j);
	for (size_t k = 0; k < CMD_COUNTER_SETS; k++)
		for (size_t i = 0; i < cmd_counter_sets[k]->n; i++) {
			jsonw_key(j, cmd_counter_sets[k]->names[i]);
			jsonw_u64(j, c->v[k].v[i]);
		}
	jsonw_obj_close(j);
	jsonw_obj_close(j);
}

/* The shipper's report: each destination's delivery state. */
static int
destinations(struct pga_ctx *ctx, const struct status_args *a, struct jsonw *jw)
{
	struct pga_err err = {0};
	int rc;

	if (ctx->cfg->ndests == 0)
		return 0;
	if (jw != NULL)
		jsonw_key(jw, "destinations");
	else
		printf("\ndestinations\n");
	rc = ship_status(ctx, a->spool, jw, stdout, &err);
	if (rc < 0) {
		log_err(&err);
		if (jw != NULL)
			jsonw_null(jw);
		return 1;
	}
	return rc;	/* destinations that need attention */
}

/* The loader's report: every collector as the central database sees it. */
static int
central(struct pga_ctx *ctx, const struct status_args *a, struct jsonw *jw)
{
	struct load_opts o = {.conninfo = a->db, .schema = ctx->cfg->global.central_schema,
			      .since = INT64_MIN, .until = INT64_MAX};
	struct pga_err err = {0};
	int rc;

	if (a->db == NULL) {
		log_error("--central needs --db CONNINFO or [global] central");
		return 1;
	}
	if (jw == NULL)
		printf("\n");
	fflush(stdout);
	rc = jw != NULL ? load_status_central_jsonw(&o, jw, &err)
			: load_status_central(&o, false, stdout, &err);
	if (rc < 0) {
		log_err(&err);
		return 1;
	}
	return rc;
}

/* --central where spool-path does not exist (the central server). */
static int
central_only(struct pga_ctx *ctx, const struct status_args *a)
{
	struct jsonw jw, *j = NULL;
	int attention;

	if (a->json) {
		j = &jw;
		jsonw_init(j, stdout);
		jsonw_obj_open(j);
		jsonw_key(j, "spool");
		jsonw_null(j);
	} else {
		printf("spool: none here ('%s' does not exist)\n", a->spool);
	}
	attention = central(ctx, a, j);
	if (j != NULL) {
		jsonw_obj_close(j);
		jsonw_end(j);
	}
	return attention ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

int
cmd_status(int argc, char **argv, struct pga_ctx *ctx)
{
	const struct pga_config *cfg = ctx->cfg;
	struct status_args a = {.spool = cfg->global.spool_path, .db = cfg->global.central,
				.json = cfg->args.json, .central = cfg->args.status_central};
	struct spool_summary s;
	struct cmd_counters c;
	struct spool *sp = NULL;
	struct pga_err err = {0};
	struct jsonw jw, *j = NULL;
	int attention = 0, rc;

	(void)argc;
	(void)argv;
	/* the central server has no spool: --central alone is what it asks */
	if (a.central && access(a.spool, F_OK) != 0 && errno == ENOENT)
		return central_only(ctx, &a);
	rc = spool_open(&sp, a.spool, &err);
	if (rc == 0)
		rc = spool_summarise(sp, &s, &err);
	if (rc == 0)
		rc = cmd_counters_read(sp, &c, &err);
	spool_free(sp);
	if (rc < 0)
		return pga_cli_error(&err);
	if (a.json) {
		j = &jw;
		jsonw_init(j, stdout);
		jsonw_obj_open(j);
		print_spool_json(j, a.spool, &s, &c, cfg->global.spool_max);
	} else {
		print_spool_text(a.spool, &s, &c, cfg->global.spool_max);
	}
	attention += s.quarantined > 0;
	attention += destinations(ctx, &a, j);
	if (a.central)
		attention += central(ctx, &a, j);
	if (j != NULL) {
		jsonw_obj_close(j);
		jsonw_end(j);
	}
	return attention ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}
