/*
 * health.h - the health verdict behind `pga status`, and its Prometheus
 * textfile
 *
 * health_gather() reads what the parts record (the spool summary and
 * counters, the collector's per-target and per-cycle records, the
 * shipper's per-destination report) and judges it against the thresholds
 * of the configuration: every finding is one line with a level.
 *
 * Levels, which are pga status's exit codes (Nagios plugin convention):
 *   0 OK        nothing needs attention
 *   1 WARNING   look soon, data still flows: a target or destination
 *               failing for less than status-stale-after, a target never
 *               collected, the spool at status-spool-warn percent of
 *               spool-max, segments in quarantine (local or central), gaps,
 *               chain breaks or held forks centrally, a destination whose
 *               oldest pending segment is older than status-stale-after
 *   2 CRITICAL  collection or delivery has stopped: a target without a
 *               complete snapshot, the collector without a cycle, or a
 *               destination without a success for longer than
 *               status-stale-after; a destination stopped after a
 *               conflict; the spool full; the spool unreadable
 *
 * health_prometheus_write() renders the node_exporter textfile format
 * (HELP and TYPE lines, pga_ names, label values escaped) and replaces
 * the file atomically: a temporary file of this process beside it,
 * fsync, rename, fsync of the directory; concurrent writers (collect and
 * ship) each rename a whole file, the last one wins.
 */
#ifndef PGA_CMD_HEALTH_H
#define PGA_CMD_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "collect/collect.h"
#include "common/config.h"
#include "common/dynbuf.h"
#include "load/load.h"
#include "ship/ship.h"
#include "spool/spool.h"

enum health_level { HEALTH_OK = 0, HEALTH_WARNING = 1, HEALTH_CRITICAL = 2 };

#define HEALTH_FINDINGS_MAX 64
#define HEALTH_FINDING_LEN 512

struct health {
	const struct pga_config *cfg;
	const char *spool;
	int64_t now;
	bool spool_read;			/* the spool could be opened */
	struct spool_summary sum;
	struct cmd_counters counters;
	struct collect_cycle_health cycle;
	struct collect_target_health *targets;	/* by cfg->targets */
	struct ship_dest_report *dests;		/* by cfg->dests */
	size_t ndests;
	struct load_collector_health *central;	/* health_add_central() */
	size_t ncentral;
	int level;				/* the worst finding's */
	size_t nfindings, dropped;		/* dropped: past the cap, counted */
	struct { int level; char text[HEALTH_FINDING_LEN]; } findings[HEALTH_FINDINGS_MAX];
};

/*
 * Read and judge the local side (spool NULL: [global] spool-path).  An
 * unreadable spool is a critical finding, not an error; errors are
 * out-of-memory only.
 */
int health_gather(struct health *h, const struct pga_config *cfg, const char *spool,
		  struct pga_err *err);
/* Read and judge the central side; a failure to read it is a critical finding. */
void health_add_central(struct health *h, const struct load_opts *o);
void health_free(struct health *h);

void health_finding(struct health *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *health_level_name(int level);

/* The textfile: local metrics when local, central ones when h->central is set. */
int health_prometheus(const struct health *h, bool local, struct dynbuf *b,
		      struct pga_err *err);
int health_prometheus_write(const struct health *h, bool local, const char *path,
			    struct pga_err *err);
/* Append v as a label value: backslash, double quote and newline escaped. */
void health_prom_label(struct dynbuf *b, const char *v);

/* For collect and ship: gather and write cfg's prometheus-file, log a failure. */
void health_write_configured(const struct pga_config *cfg, const char *spool);

#endif
