/*
 * hoststats.h - host counters of a local target: /proc and statvfs
 *
 * Each METRIC_HOST entry of the catalog (host_cpu, host_load, host_memory,
 * host_disk, host_net, host_fs) is produced here as CSV rows in the
 * catalog's column order, passed to a writer as they are formatted: no
 * file is read whole.  Linux only (/proc); elsewhere the read fails and
 * the metric is counted as an error.
 *
 * Thread-safe: no state.  Errors: 0 or a negative PGA_E* code with err.
 */
#ifndef PGA_HOSTSTATS_H
#define PGA_HOSTSTATS_H

#include <stddef.h>

#include "common/err.h"

typedef int (*host_write_fn)(void *ctx, const char *buf, size_t len,
			     struct pga_err *err);

/* datadir (may be "" or NULL: host_fs fails) is what host_fs measures. */
int host_metric(const char *name, const char *datadir, host_write_fn fn,
		void *ctx, struct pga_err *err);

/* Is a libpq host (or hostaddr) this machine: socket, localhost, loopback? */
int host_is_local(const char *host, const char *hostaddr);

#endif
