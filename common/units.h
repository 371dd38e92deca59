/*
 * units.h - parsing and printing of times, durations and sizes
 *
 * Times are int64 microseconds since the Unix epoch, UTC.  Accepted input:
 *   2026-11-25T21:34:07Z, 2026-11-25T21:34:07.250Z, 2026-11-25 21:34:07+00,
 *   2026-11-25T21:34:07+02:00, 2026-11-25 (midnight UTC), now,
 *   and relative forms -2h, -30m, -7d, -90s, +1h (from now).
 * Durations: 250ms, 60s, 5m or 5min, 1h, 7d, 2w, a blank allowed before
 * the unit ("10 s"); a bare number is seconds, or the unit the caller
 * names (a key mirroring a PostgreSQL setting takes its base unit).
 * Sizes: 512, 64K, 10M, 1G, 2T, with optional B / iB, and PostgreSQL's
 * kB, MB, GB, TB (all binary, 1024); a bare number is bytes.
 * All functions are pure and thread-safe.
 */
#ifndef PGA_UNITS_H
#define PGA_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PGA_USEC_PER_SEC 1000000LL

int64_t pga_now_us(void);
/* Monotonic clock in microseconds, for deadlines and rates. */
int64_t pga_mono_us(void);

int pga_parse_time(const char *s, int64_t now_us, int64_t *out,
		   struct pga_err *err);
int pga_parse_duration(const char *s, int64_t *out_us, struct pga_err *err);
/* A bare number is bare_us microseconds each (1000: milliseconds). */
int pga_parse_duration_unit(const char *s, int64_t bare_us, int64_t *out_us,
			    struct pga_err *err);
int pga_parse_size(const char *s, uint64_t *out, struct pga_err *err);

/* 2026-11-25T21:34:07.123456Z (fraction only when non-zero); buf >= 32. */
void pga_format_time(int64_t us, char *buf, size_t cap);
/* 20261125T213407Z, the form used in segment names; buf >= 17. */
void pga_format_time_compact(int64_t us, char *buf, size_t cap);
/* "1.5G" style via humanize_number (at most 5 characters); buf >= 6. */
void pga_format_size(uint64_t bytes, char *buf, size_t cap);
/* "1h02m", "45s", "3d04h"; buf >= 16. */
void pga_format_duration(int64_t us, char *buf, size_t cap);

#endif
