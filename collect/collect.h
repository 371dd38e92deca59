/*
 * collect.h - the collector: every target's statistics into the spool
 *
 * A struct collector owns the configured targets, a pool of worker threads
 * (one per cycle, joined at its end) and, in loop mode, the connections
 * kept open between cycles.  collector_cycle() runs one cycle: each target
 * gets a wall-clock deadline, a cluster job (connect, one snapshot
 * transaction, cluster metrics, database discovery) and a job per further
 * database; metric data goes from libpq's COPY buffers, through the UTF-8
 * escaper (common/utf8.h: what the server could not convert to UTF-8 is
 * written as \xNN), into a spilled spool stream per worker and is
 * committed block by block.
 *
 * Why threads with blocking-style libpq (bounded by cpg.h's deadlines)
 * rather than one non-blocking event loop: the work per row is compression
 * (CPU) and the waiting is per connection (network); N threads keep every
 * core compressing while the others wait, each worker keeps its own zstd
 * context and spill buffer without sharing, and the only shared point is
 * spool_stream_commit(), which appends a finished block under the spool's
 * mutex.  An event loop would need a compressor per connection or a copy of
 * the data to hand it to a compressing thread.
 *
 * Ownership: collector_new() keeps pointers to the config and the spool;
 * both must outlive it.  Not thread-safe: one thread drives a collector.
 * Errors: 0 or a negative PGA_E* code with err filled; a target's failure
 * is not an error of collector_cycle() (it is counted in the stats).
 */
#ifndef PGA_COLLECT_H
#define PGA_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/err.h"
#include "spool/spool.h"

struct collector;

/*
 * The collector's counters in SPOOL/counters (spool.h): cycles, cycles
 * that failed (nothing collected or the spool failed, also before the
 * cycle could start) or were skipped (a tick missed, another writer
 * running), targets ok and failed, snapshots complete and partial, metric
 * errors, values escaped as \xNN.
 */
enum collect_counter {
	CC_CYCLES,
	CC_CYCLES_FAILED,
	CC_CYCLES_SKIPPED,
	CC_TARGETS_OK,
	CC_TARGETS_FAILED,
	CC_SNAPSHOTS_COMPLETE,
	CC_SNAPSHOTS_PARTIAL,
	CC_METRIC_ERRORS,
	CC_VALUES_ESCAPED,
	CC__COUNT
};
extern const struct spool_counter_set collect_counters;

/* The collector's folder in the spool (spool_part_dir): cadence and csvlog state. */
#define COLLECT_STATE_DIR "state"

struct collect_opts {
	const struct pga_config *cfg;
	struct spool *sp;		/* open for writing */
	const char *const *only;	/* --target names, or NULL for all enabled */
	size_t nonly;
	bool keep_connections;		/* loop mode: reuse across cycles */
};

struct collect_stats {
	unsigned targets_ok, targets_failed, targets_skipped;
	unsigned snapshots_complete, snapshots_partial;
	uint64_t blocks, rows, bytes;	/* bytes: uncompressed CSV */
	uint64_t metric_errors;
	uint64_t databases;		/* databases collected */
	uint64_t values_escaped;	/* not UTF-8: escaped as \xNN */
	char escaped_detail[256];	/* "metric n, metric n", "" when none */
	int64_t elapsed_us;
	bool interrupted;		/* a stop request cut the cycle short */
	bool failed;			/* nothing collected, or the spool failed */
};

/*
 * Health for `pga status`, kept in the collector's folder of the spool:
 * state/<target>.health after each attempt at a target, state/cycle.health
 * after each cycle ("key value" lines, replaced atomically and durably;
 * FORMAT.md).  Times are wall-clock microseconds since the epoch, 0 for
 * never.  A target skipped while backing off keeps its record.
 */
struct collect_target_health {
	bool recorded;			/* a record exists and was read */
	int64_t last_attempt_us;	/* start of the last cycle that tried it */
	int64_t last_success_us;	/* ... that gave a complete snapshot */
	int64_t last_error_us;		/* ... that failed it */
	int64_t failing_since_us;	/* first failure since the last success; 0: ok */
	uint64_t failures;		/* consecutive failed attempts */
	char last_error[PGA_ERR_MSG_MAX];
};

struct collect_cycle_health {
	bool recorded;
	int64_t start_us, duration_us;	/* the last cycle */
	bool failed;			/* it collected nothing, or the spool failed */
	int64_t last_collected_us;	/* start of the last cycle that collected */
	unsigned targets_ok, targets_failed;
};

/*
 * Read a target's (or the last cycle's) record from the spool sp (open
 * for reading is enough).  No record: 0 with recorded false.  A record
 * that does not parse: PGA_ECORRUPT, recorded false.
 */
int collect_target_health(struct spool *sp, const char *target,
			  struct collect_target_health *h, struct pga_err *err);
int collect_cycle_health(struct spool *sp, struct collect_cycle_health *h,
			 struct pga_err *err);

/*
 * Check the configuration (conninfo syntax, database lists, the --target
 * names) without connecting; err names file and line.
 */
int collect_validate(const struct pga_config *cfg, const char *const *only,
		     size_t nonly, struct pga_err *err);

int collector_new(struct collector **out, const struct collect_opts *o,
		  struct pga_err *err);
/*
 * One cycle over every target.  Adds its figures to the spool counters
 * (cycles, cycles_failed, targets ok/failed, snapshots complete/partial,
 * metric errors, values escaped).  Each target's snapshot ends with a
 * snapshot_status block (complete, or partial and why); a target whose
 * snapshot was cut short, by the spool too, is failed, never ok.  Fails
 * only when the spool itself fails (it cannot take blocks) or on
 * out-of-memory.
 */
int collector_cycle(struct collector *c, struct collect_stats *st,
		    struct pga_err *err);
/* Number of targets it collects from. */
size_t collector_ntargets(const struct collector *c);
void collector_free(struct collector *c);

/*
 * The target half of `pga check`: connect to every enabled target (or the
 * ones named in only), report version, identity, privileges, databases,
 * pg_stat_statements and every metric (each run as in a cycle, output
 * discarded).  Text on stdout, or, with json, a key "targets" holding an
 * array, written into the caller's open JSON object.  *failures gets the
 * number of targets with a problem.  Returns 0, or a negative code when the
 * check could not run at all (bad configuration: err names file and line).
 */
struct jsonw;
int check_targets(struct pga_ctx *ctx, const char *const *only, size_t nonly,
		  struct jsonw *json, int *failures, struct pga_err *err);

#endif
