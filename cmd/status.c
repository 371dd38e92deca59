/*
 * `pga status [--json] [--spool DIR] [--central [--db CONNINFO]] [--prometheus FILE]`
 *
 * The operator's one-screen view, from the reports of the parts: the
 * spool's summary (segments waiting, their age, usage against spool-max,
 * open and quarantined segments) with every part's counters, the
 * collector's last cycle and each target's last success and last error
 * (collect.h), each destination's delivery state (ship_status), then,
 * with --central, every collector as the central database sees it
 * (load_status_central).  Last, the findings and the verdict, which is the
 * exit code (cmd/health.h: 0 ok, 1 warning, 2 critical).  --prometheus
 * writes the same as a node_exporter textfile instead of printing.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <errno.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/health.h"
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
	const char *prometheus;
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

static void
print_when(const char *label, int64_t us, int64_t now)
{
	char t[40], ago[24];

	if (us == 0) {
		printf("  %-14s never\n", label);
		return;
	}
	pga_format_time(us, t, sizeof(t));
	pga_format_duration(now > us ? now - us : 0, ago, sizeof(ago));
	printf("  %-14s %s (%s ago)\n", label, t, ago);
}

/* The collector's records: the last cycle, then each enabled target. */
static void
print_collect_text(const struct health *h)
{
	const struct pga_config *cfg = h->cfg;
	char took[24];

	if (cfg->ntargets == 0 && !h->cycle.recorded)
		return;
	printf("\ncollect\n");
	if (h->cycle.recorded) {
		pga_format_duration(h->cycle.duration_us, took, sizeof(took));
		print_when("last cycle:", h->cycle.start_us, h->now);
		printf("  %-14s took %s, %u targets ok, %u failed%s\n", "", took,
		       h->cycle.targets_ok, h->cycle.targets_failed,
		       h->cycle.failed ? ", collected nothing" : "");
		print_when("last collected:", h->cycle.last_collected_us, h->now);
	} else {
		printf("  %-14s none recorded\n", "last cycle:");
	}
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct collect_target_health *r = &h->targets[i];

		if (!cfg->targets[i].enabled)
			continue;
		printf("target '%s'\n", cfg->targets[i].name);
		if (!r->recorded) {
			printf("  %-14s never collected\n", "");
			continue;
		}
		print_when("last success:", r->last_success_us, h->now);
		print_when("last error:", r->last_error_us, h->now);
		if (r->last_error_us > r->last_success_us) {
			print_when("failing since:", r->failing_since_us, h->now);
			printf("  %-14s %s (%" PRIu64 " attempts)\n", "", r->last_error, r->failures);
		}
	}
}

static void
json_collect(struct jsonw *j, const struct health *h)
{
	const struct pga_config *cfg = h->cfg;

	jsonw_key(j, "cycle");
	if (h->cycle.recorded) {
		jsonw_obj_open(j);
		jsonw_key(j, "start"); jsonw_time(j, h->cycle.start_us);
		jsonw_key(j, "duration_seconds"); jsonw_seconds(j, h->cycle.duration_us);
		jsonw_key(j, "failed"); jsonw_bool(j, h->cycle.failed);
		jsonw_key(j, "last_collected"); jsonw_time(j, h->cycle.last_collected_us);
		jsonw_key(j, "targets_ok"); jsonw_u64(j, h->cycle.targets_ok);
		jsonw_key(j, "targets_failed"); jsonw_u64(j, h->cycle.targets_failed);
		jsonw_obj_close(j);
	} else {
		jsonw_null(j);
	}
	jsonw_key(j, "targets");
	jsonw_arr_open(j);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		const struct collect_target_health *r = &h->targets[i];
		bool failing = r->last_error_us > r->last_success_us;

		if (!cfg->targets[i].enabled)
			continue;
		jsonw_obj_open(j);
		jsonw_key(j, "name"); jsonw_str(j, cfg->targets[i].name);
		jsonw_key(j, "recorded"); jsonw_bool(j, r->recorded);
		jsonw_key(j, "last_success"); jsonw_time(j, r->last_success_us);
		jsonw_key(j, "last_error_time"); jsonw_time(j, r->last_error_us);
		jsonw_key(j, "last_error"); jsonw_str(j, r->last_error[0] ? r->last_error : NULL);
		jsonw_key(j, "failing"); jsonw_bool(j, failing);
		jsonw_key(j, "failing_since"); jsonw_time(j, failing ? r->failing_since_us : 0);
		jsonw_key(j, "consecutive_failures"); jsonw_u64(j, r->failures);
		jsonw_obj_close(j);
	}
	jsonw_arr_close(j);
}

static void
print_findings(const struct health *h, struct jsonw *j)
{
	if (j != NULL) {
		jsonw_key(j, "health");
		jsonw_obj_open(j);
		jsonw_key(j, "status"); jsonw_str(j, health_level_name(h->level));
		jsonw_key(j, "exit_code"); jsonw_i64(j, h->level);
		jsonw_key(j, "findings");
		jsonw_arr_open(j);
		for (size_t i = 0; i < h->nfindings; i++) {
			jsonw_obj_open(j);
			jsonw_key(j, "level"); jsonw_str(j, health_level_name(h->findings[i].level));
			jsonw_key(j, "text"); jsonw_str(j, h->findings[i].text);
			jsonw_obj_close(j);
		}
		jsonw_arr_close(j);
		jsonw_key(j, "findings_dropped"); jsonw_u64(j, h->dropped);
		jsonw_obj_close(j);
		return;
	}
	printf("\n");
	for (size_t i = 0; i < h->nfindings; i++)
		printf("%-8s %s\n", health_level_name(h->findings[i].level), h->findings[i].text);
	if (h->dropped > 0)
		printf("%-8s ... and %zu more findings\n", "", h->dropped);
	printf("status: %s\n", health_level_name(h->level));
}

/* --central on a host with no spool at all: the central side alone. */
static bool
local_absent(const struct status_args *a)
{
	return a->central && access(a->spool, F_OK) != 0 && errno == ENOENT;
}

static int
write_prometheus(struct health *h, const struct status_args *a, bool local)
{
	struct pga_err err = {0};

	if (health_prometheus_write(h, local, a->prometheus, &err) < 0) {
		log_err(&err);
		return HEALTH_CRITICAL;
	}
	return h->level;
}

int
cmd_status(int argc, char **argv, struct pga_ctx *ctx)
{
	const struct pga_config *cfg = ctx->cfg;
	struct status_args a = {.spool = cfg->global.spool_path, .db = cfg->global.central,
				.json = cfg->args.json, .central = cfg->args.status_central,
				.prometheus = cfg->args.prometheus};
	struct load_opts lo = {.conninfo = a.db, .schema = cfg->global.central_schema,
			       .since = INT64_MIN, .until = INT64_MAX};
	struct health h;
	struct pga_err err = {0};
	struct jsonw jw, *j = NULL;
	bool local = !local_absent(&a);
	int level;

	(void)argc;
	(void)argv;
	if (a.central && a.db == NULL)
		return pga_cli_usage(ctx->cmd, "--central needs --db CONNINFO or [global] central");
	if (a.prometheus != NULL && a.json)
		return pga_cli_usage(ctx->cmd, "--prometheus and --json do not go together");
	if (health_gather(&h, cfg, a.spool, &err) < 0)
		return pga_cli_error(&err);
	if (!local) {	/* judged the central side only */
		h.level = HEALTH_OK;
		h.nfindings = h.dropped = 0;
	}
	if (a.central)
		health_add_central(&h, &lo);
	if (a.prometheus != NULL) {
		level = write_prometheus(&h, &a, local);
		health_free(&h);
		return level;
	}
	if (a.json) {
		j = &jw;
		jsonw_init(j, stdout);
		jsonw_obj_open(j);
	}
	if (local && h.spool_read) {
		if (j != NULL)
			print_spool_json(j, a.spool, &h.sum, &h.counters, cfg->global.spool_max);
		else
			print_spool_text(a.spool, &h.sum, &h.counters, cfg->global.spool_max);
		if (j != NULL)
			json_collect(j, &h);
		else
			print_collect_text(&h);
		destinations(ctx, &a, j);
	}
	if (a.central)
		central(ctx, &a, j);
	print_findings(&h, j);
	if (j != NULL) {
		jsonw_obj_close(j);
		jsonw_end(j);
	}
	level = h.level;
	health_free(&h);
	return level;
}
