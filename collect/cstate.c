/* Per-target collector state: texts and settings cadence, shipped queryids. */
#define _GNU_SOURCE
#include "collect/cstate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "common/fsutil.h"

#define QIDS_MAX (1u << 20)	/* a corrupt or foreign file cannot blow memory */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static size_t
sort_unique(uint64_t *v, size_t n)
{
	size_t out = 0;

	if (n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (out == 0 || v[out - 1] != v[i])
			v[out++] = v[i];
	return out;
}

static int
reserve(struct cstate *s, size_t n, struct pga_err *err)
{
	uint64_t *v;
	size_t cap = s->cap ? s->cap : 1024;

	if (n <= s->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	v = reallocarray(s->qids, cap, sizeof(*v));
	if (v == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	s->qids = v;
	s->cap = cap;
	return 0;
}

static void
parse_state(struct cstate *s, char *text)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[32], val[64];

		if (sscanf(l, "%31s %63s", key, val) != 2)
			continue;
		if (strcmp(key, "cycle") == 0)
			s->cycle = strtoull(val, NULL, 10);
		else if (strcmp(key, "texts_cycle") == 0)
			s->texts_cycle = strtoull(val, NULL, 10);
		else if (strcmp(key, "settings_cycle") == 0)
			s->settings_cycle = strtoull(val, NULL, 10);
		else if (strcmp(key, "bloat_cycle") == 0)
			s->bloat_cycle = strtoull(val, NULL, 10);
		else if (strcmp(key, "sysid") == 0)
			s->sysid = strtoull(val, NULL, 10);
		else if (strcmp(key, "settings_hash") == 0)
			strlcpy(s->settings_hash, val, sizeof(s->settings_hash));
	}
}

static int
load_qids(struct cstate *s, struct pga_err *err)
{
	FILE *f = fopen(s->qpath, "re");
	char line[64];
	int rc = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 :
		       pga_fail(err, PGA_EIO, "could not open '%s': %m", s->qpath);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		if (s->nqids >= QIDS_MAX)
			break;
		rc = reserve(s, s->nqids + 1, err);
		if (rc == 0)
			s->qids[s->nqids++] = strtoull(line, NULL, 16);
	}
	fclose(f);
	s->nqids = sort_unique(s->qids, s->nqids);
	return rc;
}

int
cstate_load(struct cstate *s, const char *dir, const char *target,
	    struct pga_err *err)
{
	char text[512];
	size_t len;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = pga_mkdir_p(dir, 0700, err);
	if (rc == 0)
		rc = pga_path(s->path, sizeof(s->path), err, "%s/%s.state", dir, target);
	if (rc == 0)
		rc = pga_path(s->qpath, sizeof(s->qpath), err, "%s/%s.qids", dir, target);
	if (rc < 0)
		return rc;
	rc = pga_read_small_file(s->path, text, sizeof(text), &len, err);
	if (rc == PGA_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	strlcpy(s->saved, text, sizeof(s->saved));
	parse_state(s, text);
	return load_qids(s, err);
}

static int
save_qids(struct cstate *s, struct pga_err *err)
{
	char tmp[PATH_MAX];
	FILE *f;
	int rc = pga_path(tmp, sizeof(tmp), err, "%s.tmp", s->qpath);

	if (rc < 0)
		return rc;
	f = fopen(tmp, "we");
	if (f == NULL)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", tmp);
	for (size_t i = 0; i < s->nqids; i++)
		fprintf(f, "%016" PRIx64 "\n", s->qids[i]);
	if (fflush(f) != 0 || ferror(f))
		rc = pga_fail(err, pga_errno_code(errno), "could not write '%s': %m", tmp);
	if (rc == 0)
		rc = pga_fsync_fd(fileno(f), tmp, err);
	if (fclose(f) != 0 && rc == 0)
		rc = pga_fail(err, pga_errno_code(errno), "could not write '%s': %m", tmp);
	if (rc == 0)
		rc = pga_rename_durable(tmp, s->qpath, err);
	if (rc == 0)
		s->qids_dirty = false;
	return rc;
}

int
cstate_save(struct cstate *s, struct pga_err *err)
{
	char text[512];
	int n, rc = 0;

	if (s->qids_dirty)
		rc = save_qids(s, err);
	n = snprintf(text, sizeof(text),
		     "pga-collect-state 1\ncycle %" PRIu64 "\ntexts_cycle %" PRIu64
		     "\nsettings_cycle %" PRIu64 "\nsysid %" PRIu64 "\nsettings_hash %s\n"
		     "bloat_cycle %" PRIu64 "\n",
		     s->cycle, s->texts_cycle, s->settings_cycle, s->sysid,
		     s->settings_hash[0] ? s->settings_hash : "-", s->bloat_cycle);
	if (rc < 0 || strcmp(text, s->saved) == 0)
		return rc;
	rc = pga_write_file_atomic(s->path, text, (size_t)n, 0600, err);
	if (rc == 0)
		strlcpy(s->saved, text, sizeof(s->saved));
	return rc;
}

void
cstate_free(struct cstate *s)
{
	free(s->qids);
	s->qids = NULL;
	s->nqids = s->cap = 0;
}

bool
cstate_has_qid(const struct cstate *s, uint64_t id)
{
	return s->nqids > 0 &&
	       bsearch(&id, s->qids, s->nqids, sizeof(id), cmp_u64) != NULL;
}

int
cstate_set_qids(struct cstate *s, uint64_t *ids, size_t n, bool replace,
		struct pga_err *err)
{
	size_t base = replace ? 0 : s->nqids;
	int rc = reserve(s, base + n, err);

	if (rc < 0)
		return rc;
	if (n > 0)
		memcpy(s->qids + base, ids, n * sizeof(*ids));
	s->nqids = sort_unique(s->qids, base + n);
	s->qids_dirty = true;
	return 0;
}
