/* Acknowledgement markers, per-destination state files, ordering; see ship_int.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/kvfile.h"
#include "common/log.h"
#include "common/units.h"
#include "ship/ship_int.h"

#define ACK_MAX 160
#define STATE_MAX 2048

int
ship_ack_path(const char *root, const char *dest, const char *name, char *buf,
	      size_t cap, struct pga_err *err)
{
	return pga_path(buf, cap, err, "%s/%s/%s.ok", root, dest, name);
}

int
ship_ack_read(const char *root, const char *dest, const char *name,
	      struct ship_ack *ack)
{
	char path[PATH_MAX], buf[ACK_MAX], hex[PGA_SHA256_HEX];
	struct pga_err err = {0};
	unsigned long long size;
	long long at;

	if (ship_ack_path(root, dest, name, path, sizeof(path), &err) < 0 ||
	    pga_read_small_file(path, buf, sizeof(buf), NULL, &err) < 0)
		return 0;
	if (sscanf(buf, "%64s %llu %lld", hex, &size, &at) != 3 || strlen(hex) != 64 ||
	    pga_unhex(hex, ack->sha256, PGA_SHA256_LEN) != 0)
		return 0;
	ack->size = size;
	ack->acked_us = at;
	return 1;
}

/*
 * Write the marker in place (no rename needed: a torn marker does not parse
 * and only costs a resend), fsync it, then fsync its directory.
 */
int
ship_ack_write(const char *root, const char *dest, const char *name,
	       const struct ship_ack *ack, bool durable, struct pga_err *err)
{
	char path[PATH_MAX], buf[ACK_MAX], hex[PGA_SHA256_HEX];
	int fd, n, rc;

	rc = ship_ack_path(root, dest, name, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	rc = pga_mkdir_parent(path, 0750, err);
	if (rc < 0)
		return rc;
	pga_hex(ack->sha256, PGA_SHA256_LEN, hex);
	n = snprintf(buf, sizeof(buf), "%s %" PRIu64 " %" PRId64 "\n", hex, ack->size,
		     ack->acked_us);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", path);
	rc = pga_write_all(fd, buf, (size_t)n, path, err);
	if (rc == 0 && durable)
		rc = pga_fsync_fd(fd, path, err);
	if (close(fd) != 0 && rc == 0)
		rc = pga_fail(err, PGA_EIO, "could not close '%s': %m", path);
	if (rc == 0 && durable)
		rc = pga_fsync_parent(path, err);
	return rc;
}

void
ship_ack_remove(const char *root, const char *dest, const char *name)
{
	char path[PATH_MAX];
	struct pga_err err = {0};

	if (ship_ack_path(root, dest, name, path, sizeof(path), &err) == 0)
		unlink(path);
}

/* Depth-first over ship/<dest>/, calling fn with names relative to it. */
static int
walk_acks(const char *root, const char *rel, int depth,
	  int (*fn)(void *ctx, const char *name), void *ctx, struct pga_err *err)
{
	char dir[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	DIR *dh;
	int rc = 0;

	if (depth > 8)
		return 0;
	rc = pga_path(dir, sizeof(dir), err, "%s%s%s", root, *rel ? "/" : "", rel);
	if (rc < 0)
		return rc;
	dh = opendir(dir);
	if (dh == NULL)
		return errno == ENOENT ? 0 : pga_fail(err, PGA_EIO, "could not read '%s': %m", dir);
	while (rc == 0 && (de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (de->d_type == DT_DIR) {
			rc = walk_acks(root, sub, depth + 1, fn, ctx, err);
		} else if (len > 3 && strcmp(de->d_name + len - 3, ".ok") == 0 && *rel) {
			sub[strlen(sub) - 3] = '\0';
			rc = fn(ctx, sub);
		}
	}
	closedir(dh);
	return rc;
}

int
ship_ack_walk(const char *root, const char *dest,
	      int (*fn)(void *ctx, const char *name), void *ctx,
	      struct pga_err *err)
{
	char dir[PATH_MAX];
	int rc = pga_path(dir, sizeof(dir), err, "%s/%s", root, dest);

	return rc < 0 ? rc : walk_acks(dir, "", 0, fn, ctx, err);
}

/* ---- state file: "key value" lines (common/kvfile) ---- */

#define STATE_FIELDS 9

static void
state_fields(struct ship_dest_state *st, struct kv_field f[STATE_FIELDS])
{
	const struct kv_field t[STATE_FIELDS] = {
		KV_U64("delivered", &st->delivered),
		KV_U64("bytes", &st->bytes),
		KV_U64("errors", &st->errors),
		KV_I64("last_success_us", &st->last_success_us),
		KV_I64("last_error_us", &st->last_error_us),
		KV_I64("last_pass_us", &st->last_pass_us),
		KV_I64("failing_since_us", &st->failing_since_us),
		KV_BOOL("stopped", &st->stopped),
		KV_STR("last_error", st->last_error),
	};

	memcpy(f, t, sizeof(t));
}

int
ship_state_read(const char *root, const char *dest, struct ship_dest_state *st,
		struct pga_err *err)
{
	char path[PATH_MAX], buf[STATE_MAX];
	struct kv_field f[STATE_FIELDS];
	unsigned bad, first;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = pga_path(path, sizeof(path), err, "%s/%s/state", root, dest);
	if (rc == 0)
		rc = pga_read_optional_file(path, buf, sizeof(buf), NULL, err);
	if (rc < 0)
		return rc;
	state_fields(st, f);
	bad = kv_parse_fields(buf, f, STATE_FIELDS, &first);
	if (bad > 0)	/* counters for status only: what is readable is kept */
		log_warn("'%s': %u malformed lines ignored (the first is line %u)", path, bad,
			 first);
	return 0;
}

int
ship_state_write(const char *root, const char *dest,
		 const struct ship_dest_state *st, struct pga_err *err)
{
	char path[PATH_MAX], buf[STATE_MAX];
	struct ship_dest_state copy = *st;
	struct kv_field f[STATE_FIELDS];
	struct dynbuf b;
	int rc;

	rc = pga_path(path, sizeof(path), err, "%s/%s/state", root, dest);
	if (rc < 0)
		return rc;
	state_fields(&copy, f);
	dynbuf_init_fixed(&b, buf, sizeof(buf));
	kv_put_fields(&b, f, STATE_FIELDS);
	return kv_save(path, &b, 0640, err);
}

/* ---- ordering ---- */

int
ship_order_oldest_first(struct spool_list *l, struct pga_err *err)
{
	size_t ngroups = 0, *head = NULL, *end = NULL, o = 0;
	struct spool_entry *out = NULL;
	int rc = 0;

	if (l->n < 2)
		return 0;
	head = calloc(l->n, sizeof(*head));
	end = calloc(l->n, sizeof(*end));
	out = calloc(l->n, sizeof(*out));
	if (head == NULL || end == NULL || out == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (i == 0 || strcmp(l->v[i].collector, l->v[i - 1].collector) != 0)
			head[ngroups++] = i;
		end[ngroups - 1] = i + 1;
	}
	/* merge the per-collector runs by creation time of their next segment */
	while (o < l->n) {
		size_t best = SIZE_MAX;

		for (size_t g = 0; g < ngroups; g++)
			if (head[g] < end[g] &&
			    (best == SIZE_MAX || l->v[head[g]].created_us < l->v[head[best]].created_us))
				best = g;
		out[o++] = l->v[head[best]++];
	}
	memcpy(l->v, out, l->n * sizeof(*out));
out:
	free(head);
	free(end);
	free(out);
	return rc;
}

int
ship_parse_retain(const char *s, bool *shipped, int64_t *keep_us,
		  struct pga_err *err)
{
	*shipped = false;
	*keep_us = 0;
	if (s == NULL || strcmp(s, "shipped") == 0) {
		*shipped = true;
		return 0;
	}
	if (pga_parse_duration(s, keep_us, err) < 0)
		return pga_fail(err, PGA_ECONFIG,
				"spool-retain must be 'shipped' or a duration, not '%s'", s);
	return 0;
}
