/*
 * What the collector records for `pga status`: each target's last success
 * and last error (state/<target>.health) and the last cycle
 * (state/cycle.health); see collect.h.  Small "key value" lines, replaced
 * atomically and durably (pga_write_file_atomic: write, fsync, rename,
 * directory fsync), so a reader sees the old record or the new one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "collect/collect.h"
#include "collect/collect_int.h"
#include "common/fsutil.h"
#include "common/units.h"

#define HEALTH_MAX 2048

/* A decimal int64 that is the whole value, or false. */
static bool
parse_i64(const char *v, int64_t *out)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < 0)
		return false;
	*out = x;
	return true;
}

/* Lines "key value"; fn gets each.  Unknown keys are skipped (newer writer). */
static int
read_lines(const char *path, bool *exists, bool (*fn)(void *arg, const char *k, const char *v),
	   void *arg, struct pga_err *err)
{
	char buf[HEALTH_MAX], *save = NULL;
	size_t len = 0;
	int rc;

	memset(buf, 0, sizeof(buf));
	rc = pga_read_optional_file(path, buf, sizeof(buf), exists, err);
	if (rc < 0 || !*exists)
		return rc;
	len = strnlen(buf, sizeof(buf));
	if (len == 0 || buf[len - 1] != '\n')
		return pga_fail(err, PGA_ECORRUPT, "'%s' is torn or not a health record", path);
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(l, ' ');

		if (v == NULL)
			return pga_fail(err, PGA_ECORRUPT, "'%s': line without a value", path);
		*v++ = '\0';
		if (!fn(arg, l, v))
			return pga_fail(err, PGA_ECORRUPT, "'%s': bad value for '%s'", path, l);
	}
	return 0;
}

static bool
target_key(void *arg, const char *k, const char *v)
{
	struct collect_target_health *h = arg;
	int64_t n;

	if (strcmp(k, "last_error") == 0) {
		strlcpy(h->last_error, v, sizeof(h->last_error));
		return true;
	}
	if (!parse_i64(v, &n))
		return strcmp(k, "last_attempt_us") && strcmp(k, "last_success_us") &&
		       strcmp(k, "last_error_us") && strcmp(k, "failing_since_us") &&
		       strcmp(k, "failures");
	if (strcmp(k, "last_attempt_us") == 0)
		h->last_attempt_us = n;
	else if (strcmp(k, "last_success_us") == 0)
		h->last_success_us = n;
	else if (strcmp(k, "last_error_us") == 0)
		h->last_error_us = n;
	else if (strcmp(k, "failing_since_us") == 0)
		h->failing_since_us = n;
	else if (strcmp(k, "failures") == 0)
		h->failures = (uint64_t)n;
	return true;
}

static bool
cycle_key(void *arg, const char *k, const char *v)
{
	struct collect_cycle_health *h = arg;
	int64_t n;

	if (!parse_i64(v, &n))
		return strcmp(k, "start_us") && strcmp(k, "duration_us") && strcmp(k, "failed") &&
		       strcmp(k, "last_collected_us") && strcmp(k, "targets_ok") &&
		       strcmp(k, "targets_failed");
	if (strcmp(k, "start_us") == 0)
		h->start_us = n;
	else if (strcmp(k, "duration_us") == 0)
		h->duration_us = n;
	else if (strcmp(k, "failed") == 0)
		h->failed = n != 0;
	else if (strcmp(k, "last_collected_us") == 0)
		h->last_collected_us = n;
	else if (strcmp(k, "targets_ok") == 0)
		h->targets_ok = (unsigned)n;
	else if (strcmp(k, "targets_failed") == 0)
		h->targets_failed = (unsigned)n;
	return true;
}

static int
target_path(const char *dir, const char *target, char *buf, size_t cap, struct pga_err *err)
{
	return pga_path(buf, cap, err, "%s/%s.health", dir, target);
}

static int
health_dir(struct spool *sp, char *dir, size_t cap, struct pga_err *err)
{
	return spool_part_dir(sp, COLLECT_STATE_DIR, dir, cap, err);
}

int
collect_target_health(struct spool *sp, const char *target,
		      struct collect_target_health *h, struct pga_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int rc;

	memset(h, 0, sizeof(*h));
	rc = health_dir(sp, dir, sizeof(dir), err);
	if (rc == 0)
		rc = target_path(dir, target, path, sizeof(path), err);
	if (rc == 0)
		rc = read_lines(path, &h->recorded, target_key, h, err);
	if (rc < 0)
		h->recorded = false;
	return rc;
}

int
collect_cycle_health(struct spool *sp, struct collect_cycle_health *h, struct pga_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	int rc;

	memset(h, 0, sizeof(*h));
	rc = health_dir(sp, dir, sizeof(dir), err);
	if (rc == 0)
		rc = pga_path(path, sizeof(path), err, "%s/cycle.health", dir);
	if (rc == 0)
		rc = read_lines(path, &h->recorded, cycle_key, h, err);
	if (rc < 0)
		h->recorded = false;
	return rc;
}

/*
 * The target's attempt at at_us ended: ok, or failed with why.  A record
 * that cannot be read is started again (it only feeds status).
 */
int
chealth_record_target(const char *dir, const char *target, int64_t at_us, bool ok,
		      const char *why, struct pga_err *err)
{
	struct collect_target_health h = {0};
	char path[PATH_MAX], buf[HEALTH_MAX], msg[PGA_ERR_MSG_MAX];
	struct pga_err rerr = {0};
	int rc, n;

	rc = target_path(dir, target, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	if (read_lines(path, &h.recorded, target_key, &h, &rerr) < 0)
		memset(&h, 0, sizeof(h));
	h.last_attempt_us = at_us;
	if (ok) {
		h.last_success_us = at_us;
		h.failing_since_us = 0;
		h.failures = 0;
	} else {
		h.last_error_us = at_us;
		if (h.failing_since_us == 0)
			h.failing_since_us = at_us;
		h.failures++;
		strlcpy(h.last_error, why && *why ? why : "failed", sizeof(h.last_error));
	}
	strlcpy(msg, h.last_error, sizeof(msg));
	for (char *c = msg; *c; c++)	/* one line per key */
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	n = snprintf(buf, sizeof(buf),
		     "last_attempt_us %" PRId64 "\nlast_success_us %" PRId64 "\n"
		     "last_error_us %" PRId64 "\nfailing_since_us %" PRId64 "\n"
		     "failures %" PRIu64 "\nlast_error %s\n",
		     h.last_attempt_us, h.last_success_us, h.last_error_us,
		     h.failing_since_us, h.failures, msg);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return pga_fail(err, PGA_EINTERNAL, "health record of '%s' too long", target);
	rc = pga_mkdir_p(dir, 0700, err);
	if (rc == 0)
		rc = pga_write_file_atomic(path, buf, (size_t)n, 0640, err);
	return rc;
}

int
chealth_record_cycle(const char *dir, int64_t start_us, const struct collect_stats *st,
		     struct pga_err *err)
{
	struct collect_cycle_health h = {0};
	char path[PATH_MAX], buf[HEALTH_MAX];
	struct pga_err rerr = {0};
	int rc, n;

	rc = pga_path(path, sizeof(path), err, "%s/cycle.health", dir);
	if (rc < 0)
		return rc;
	if (read_lines(path, &h.recorded, cycle_key, &h, &rerr) < 0)
		memset(&h, 0, sizeof(h));
	if (!st->failed)
		h.last_collected_us = start_us;
	n = snprintf(buf, sizeof(buf),
		     "start_us %" PRId64 "\nduration_us %" PRId64 "\nfailed %d\n"
		     "last_collected_us %" PRId64 "\ntargets_ok %u\ntargets_failed %u\n",
		     start_us, st->elapsed_us, st->failed ? 1 : 0, h.last_collected_us,
		     st->targets_ok, st->targets_failed);
	rc = pga_mkdir_p(dir, 0700, err);
	if (rc == 0)
		rc = pga_write_file_atomic(path, buf, (size_t)n, 0640, err);
	return rc;
}
