/*
 * ship.h - the shipping engine behind `pga ship`, and its reports for
 * `pga status` and `pga check`
 *
 * Delivery: sealed segments are taken oldest first (across collectors by
 * creation time, within a collector by sequence) and put to every enabled
 * destination.  Each destination runs on its own threads (max-parallel
 * upload slots, its own token bucket and retry clock), so a slow or dead
 * destination never holds up the others.  Every segment is verified
 * (seg_verify_stream) before its first upload; one that fails is moved to
 * quarantine and never shipped.
 *
 * Durability: after a destination confirmed a segment, the shipper writes
 * and fsyncs SPOOL/ship/<dest>/<name>.ok.  A segment leaves ready/ only when
 * every enabled destination has its marker and spool-retain allows it
 * ('shipped': at once; a duration: that long after the last confirmation).
 * A crash between confirmation and marker costs one re-upload, which the
 * destinations make harmless (create-only writes, compare on conflict).
 *
 * Failures: retryable errors (network, 5xx, 408, 429, timeouts) are retried
 * with exponential backoff and full jitter up to retries attempts per
 * segment; then, or on a permanent error, the destination stops for this
 * pass (--loop tries again after ship-interval).  A different object under
 * a segment's name stops that destination until pga ship is restarted.
 * Everything is logged and kept in SPOOL/ship/<dest>/state for status.
 *
 * One `pga ship` per spool (flock on SPOOL/ship.lock).  Counters in
 * SPOOL/counters: segments_shipped and bytes_shipped count deliveries (a
 * segment sent to two destinations counts twice), ship_errors failed
 * attempts; they are flushed every second and at exit, so a kill -9 may
 * lose up to a second of counts but never a segment.
 */
#ifndef PGA_SHIP_H
#define PGA_SHIP_H

#include <stdbool.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/err.h"
#include "common/jsonw.h"
#include "spool/spool.h"

/*
 * The shipper's counters in SPOOL/counters (spool.h): segments and bytes
 * delivered (a segment sent to two destinations counts twice), failed
 * attempts.
 */
enum ship_counter {
	SHC_SEGMENTS_SHIPPED,
	SHC_BYTES_SHIPPED,
	SHC_SHIP_ERRORS,
	SHC__COUNT
};
struct spool_counter_set;
extern const struct spool_counter_set ship_counters;

/* The shipper's folder in the spool (spool_part_dir) and its lock's name. */
#define SHIP_DIR "ship"

struct ship_opts {
	const char *dest;		/* only this destination, or NULL: all enabled */
	bool loop;			/* run until SIGTERM/SIGINT */
	bool progress;			/* a live progress line on stderr (a terminal) */
	/* --loop: SIGHUP reloads the configuration through this (NULL: no reload) */
	const struct pga_ctx *reload_ctx;
	/*
	 * Called after each destination's pass, its state saved, from that
	 * destination's thread (so possibly from several at once), with the
	 * configuration in force; NULL: none.  The command layer writes the
	 * prometheus-file there.
	 */
	void (*after_pass)(const struct pga_config *cfg, void *arg);
	void *after_pass_arg;
};

/*
 * Ship; returns an exit status: PGA_EXIT_OK (everything pending was
 * delivered, or --loop stopped on request), PGA_EXIT_PARTIAL (some
 * destinations failed, others did not, or ship-deadline left work),
 * PGA_EXIT_FAIL (start-up error in err, or every destination failed).
 * On SIGTERM/SIGINT no new upload starts; uploads in flight get 10 s to
 * finish and are then abandoned (their segment stays pending).
 *
 * SIGHUP in --loop (with reload_ctx): no new upload starts, those in flight
 * finish, every destination ends its pass; then the configuration is read
 * again and the destinations rebuilt from it (added, removed, changed,
 * spool-retain and ship-interval too; spool-path only at a restart).  A
 * configuration with any error is refused, logged in one line, and the
 * old one goes on.  The spool, its lock and the counters are kept.
 */
int ship_run(const struct pga_config *cfg, const struct ship_opts *o,
	     struct pga_err *err);

/*
 * Per enabled destination: pending segments and bytes (in ready/ without
 * its marker), oldest pending age, delivered totals, last success, last
 * error.  With jw, writes one JSON array value (the caller has written the
 * key); otherwise human-readable lines to out.  Reads only; safe while
 * pga ship runs.  spool NULL: [global] spool-path.  Returns the number of
 * enabled destinations that need attention (stopped after a conflict, or
 * whose last attempt failed), or a negative PGA_E* code with err filled.
 */
int ship_status(struct pga_ctx *ctx, const char *spool, struct jsonw *jw,
		FILE *out, struct pga_err *err);

/*
 * The same per enabled or disabled destination as data, in cfg's order:
 * *out (free() it) gets cfg->ndests entries.  failing: stopped after a
 * conflict, or the last attempt failed (last error after last success);
 * failing_since_us: the first error since the last success.
 */
struct ship_dest_report {
	const struct pga_dest *dest;
	uint64_t pending_segments, pending_bytes;
	int64_t oldest_pending_us;	/* creation of the oldest pending, 0: none */
	uint64_t delivered, delivered_bytes, failed_attempts;
	int64_t last_success_us, last_error_us, failing_since_us;
	bool stopped, failing;
	char last_error[PGA_ERR_MSG_MAX];
};
int ship_report(const struct pga_config *cfg, const char *spool,
		struct ship_dest_report **out, size_t *n, struct pga_err *err);

/*
 * For pga check: validate every enabled destination's configuration, open
 * it and call its check (reachability and credentials, nothing written
 * except the file destination's probe file).  With jw, writes one JSON
 * array value ([{"name","url","ok","error"}]); otherwise one line per
 * destination to out.  *failures gets the number that failed.  Returns 0,
 * or an error only when the report itself could not be made.
 */
int ship_check_destinations(struct pga_ctx *ctx, struct jsonw *jw, FILE *out,
			    int *failures, struct pga_err *err);

/*
 * Where a sealed segment already is, for the writer's drop-oldest
 * (spool_where, spool/spool.h): the enabled destinations of cfg whose
 * marker confirms it.  note gets "delivered to 'a', not to 'b'" (or
 * "delivered to 'a', 'b'"), "" when none has it.  No destination enabled:
 * SPOOL_NOWHERE (a spool carried by hand has no consumer here).
 */
enum spool_where ship_where(const struct spool *sp, const struct pga_config *cfg,
			    const char *name, char *note, size_t cap);

/*
 * Let spool/source.h read bucket URLs (pga load --from URL, pga restore)
 * through the destinations; cfg must outlive every source.  Called once by
 * cmd_setup() (cmd/cmd.h) before any thread starts.
 */
void ship_register_url_source(const struct pga_config *cfg);

#endif
