/*
 * `pga status [--json] [--spool DIR] [--central [--db CONNINFO]]`
 *
 * The operator's one-screen view: the local spool (segments waiting, their
 * age, usage against spool-max, counters, open and quarantined segments),
 * then each destination's delivery state, then, with --central, every
 * collector as the central database sees it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"
#include "spool/spool.h"
#include "spool/status.h"

static const char *const status_help[] = {
	"usage: pga status [--json] [--spool DIR] [--central] [--db CONNINFO]",
	"",
	"  --json        machine-readable output",
	"  --spool DIR   the local spool (default: spool-path)",
	"  --central     also show every collector as the central database sees it",
	"  --db CONNINFO central database (default: [global] central)",
	"",
	"Exit status: 0 healthy, 1 the spool is unreadable, 2 something needs",
	"attention (quarantined segments, failing destinations, collector gaps).",
	NULL,
};

struct spool_summary {
	size_t sealed, quarantined;
	uint64_t bytes, usage;
	int64_t oldest_us;
	struct spool_counters c;
};

static int
summarise(struct spool *sp, struct spool_summary *s, struct pga_err *err)
{
	struct spool_list ready = {0}, quar = {0};
	int rc;

	memset(s, 0, sizeof(*s));
	rc = spool_list_ready(sp, &ready, err);
	if (rc == 0)
		rc = spool_list_quarantine(sp, &quar, err);
	if (rc == 0)
		rc = spool_counters_read(sp, &s->c, err);
	if (rc == 0)
		rc = spool_usage(sp, &s->usage, err);
	s->sealed = ready.n;
	s->quarantined = quar.n;
	for (size_t i = 0; i < ready.n; i++) {
		s->bytes += ready.v[i].size;
		if (s->oldest_us == 0 || ready.v[i].created_us < s->oldest_us)
			s->oldest_us = ready.v[i].created_us;
	}
	spool_list_free(&ready);
	spool_list_free(&quar);
	return rc;
}

static void
print_spool_text(const char *path, const struct spool_summary *s, uint64_t max)
{
	char used[16], cap[16], bytes[16], age[24] = "";
	static const enum spool_counter shown[] = {
		SC_SEGMENTS_SEALED, SC_BLOCKS_WRITTEN, SC_ROWS_WRITTEN,
		SC_SEGMENTS_RECOVERED, SC_BYTES_TORN, SC_SEGMENTS_DROPPED,
		SC_BLOCKS_DROPPED, SC_BLOCKS_REFUSED, SC_BLOCKS_FAILED,
		SC_SEGMENTS_QUARANTINED, SC_CYCLES, SC_CYCLES_FAILED, SC_CYCLES_SKIPPED,
		SC_TARGETS_FAILED, SC_SNAPSHOTS_COMPLETE, SC_SNAPSHOTS_PARTIAL,
		SC_METRIC_ERRORS, SC_VALUES_ESCAPED, SC_SEGMENTS_SHIPPED, SC_SHIP_ERRORS,
	};

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
		printf("  %-22s %" PRIu64 "\n", spool_counter_name(shown[i]), s->c.v[shown[i]]);
}

static void
print_spool_json(struct jsonw *j, const char *path, const struct spool_summary *s,
		 uint64_t max)
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
	for (int i = 0; i < SC__COUNT; i++) {
		jsonw_key(j, spool_counter_name((enum spool_counter)i));
		jsonw_u64(j, s->c.v[i]);
	}
	jsonw_obj_close(j);
	jsonw_obj_close(j);
}

int
cmd_status(int argc, char **argv, struct pga_ctx *ctx)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"spool", required_argument, NULL, 's'},
		{"central", no_argument, NULL, 'C'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct status_args a = {.spool = ctx->cfg->global.spool_path,
				.db = ctx->cfg->global.central};
	struct spool_summary s;
	struct spool *sp = NULL;
	struct pga_err err = {0};
	struct jsonw jw, *j = NULL;
	int c, attention = 0, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': a.json = true; break;
		case 's': a.spool = optarg; break;
		case 'C': a.central = true; break;
		case 'd': a.db = optarg; break;
		case 'h': return pga_cli_help(status_help);
		default: return PGA_EXIT_USAGE;
		}
	}
	rc = spool_open(&sp, a.spool, &err);
	if (rc == 0)
		rc = summarise(sp, &s, &err);
	if (rc < 0) {
		spool_free(sp);
		return pga_cli_error(&err);
	}
	if (a.json) {
		j = &jw;
		jsonw_init(j, stdout);
		jsonw_obj_open(j);
		print_spool_json(j, a.spool, &s, ctx->cfg->global.spool_max);
	} else {
		print_spool_text(a.spool, &s, ctx->cfg->global.spool_max);
	}
	attention += s.quarantined > 0;
	attention += status_extra(ctx, &a, sp, j);
	if (j != NULL) {
		jsonw_obj_close(j);
		jsonw_end(j);
	}
	spool_free(sp);
	return attention ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}
