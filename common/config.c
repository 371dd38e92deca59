#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/inifile.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/secretfile.h"
#include "common/units.h"

enum cfg_scope { SCOPE_GLOBAL, SCOPE_TARGET, SCOPE_DEST };
enum cfg_type { T_STRING, T_SIZE, T_DURATION, T_INT, T_BOOL, T_ENUM };
/* secret: never logged; a file that sets one must not be open to others */
enum cfg_secret { S_NONE, S_ALWAYS, S_PASSWORD /* when it carries a password */ };

struct cfg_row {
	const char *name;
	enum cfg_scope scope;
	enum cfg_type type;
	size_t off;
	const char *def;
	long long min, max;
	const char *const *choices;
	enum cfg_secret secret;
	const char *inherit;
	const char *doc;
};

static const char *const full_choices[] = {"block", "drop-oldest", NULL};
static const char *const level_choices[] = {"error", "warn", "info", "debug",
					    "trace", NULL};
static const char *const create_only_choices[] = {"auto", "if-none-match", "check", NULL};

/* One row per key: name, scope, type, field, default, bounds, doc. */
#define ROW(n, sc, ty, st, f, def, mn, mx, ch, sec, inh, doc) \
	{n, sc, ty, offsetof(st, f), def, mn, mx, ch, sec, inh, doc}
#define GKEY(n, ty, f, def, mn, mx, ch, doc) \
	ROW(n, SCOPE_GLOBAL, ty, struct pga_global, f, def, mn, mx, ch, S_NONE, NULL, doc)
#define GSECRET(n, f, doc) \
	ROW(n, SCOPE_GLOBAL, T_STRING, struct pga_global, f, NULL, 0, 0, NULL, S_PASSWORD, NULL, doc)
#define TKEY(n, ty, f, def, mn, mx, inh, doc) \
	ROW(n, SCOPE_TARGET, ty, struct pga_target, f, def, mn, mx, NULL, S_NONE, inh, doc)
#define TCONNINFO(n, f, doc) \
	ROW(n, SCOPE_TARGET, T_STRING, struct pga_target, f, NULL, 0, 0, NULL, S_PASSWORD, NULL, doc)
#define DKEY(n, ty, f, def, mn, mx, sec, doc) \
	ROW(n, SCOPE_DEST, ty, struct pga_dest, f, def, mn, mx, NULL, sec, NULL, doc)

static const struct cfg_row keys[] = {
	/* [global]: the spool */
	GKEY("spool-path", T_STRING, spool_path, "/var/spool/pga", 0, 0, NULL,
	     "Directory of the local spool (segments, state, counters). Also --spool DIR."),
	GKEY("collector", T_STRING, collector, NULL, 0, 0, NULL,
	     "This site's collector id, part of every segment name. Default: the host name."),
	GKEY("spool-max", T_SIZE, spool_max, "1G", 0, 0, NULL,
	     "Most bytes the spool may hold (sealed and open segments)."),
	GKEY("spool-full", T_ENUM, spool_full, "block", 0, 0, full_choices,
	     "What to do when spool-max is reached: block refuses new data (exit 1), "
	     "drop-oldest deletes the oldest sealed segments, counted and logged."),
	GKEY("segment-max-size", T_SIZE, segment_max_size, "64M", 0, 0, NULL,
	     "Seal a segment once it reaches this size."),
	GKEY("segment-max-age", T_DURATION, segment_max_age, "5m", 0, 0, NULL,
	     "Seal a segment once it is this old, so the shipper can take it."),
	GKEY("compress-level", T_INT, compress_level, "3", 1, 19, NULL,
	     "zstd compression level of segment data frames."),
	GKEY("log-level", T_ENUM, log_level, "info", 0, 0, level_choices,
	     "error, warn, info, debug or trace. Also --log-level."),
	GKEY("spool-retain", T_STRING, spool_retain, "shipped", 0, 0, NULL,
	     "When shipped segments leave the spool: 'shipped' (as soon as every "
	     "destination has confirmed them) or a duration such as 7d (keep that long after shipping)."),
	/* [global]: the collector */
	GKEY("workers", T_INT, workers, "0", 0, 256, NULL,
	     "Parallel collector connections; 0 picks 4 per core, capped by the number of targets."),
	GKEY("interval", T_DURATION, interval, "60s", 0, 0, NULL,
	     "Cycle interval of pga collect --loop. Also --interval."),
	GKEY("query-stats-limit", T_INT, query_stats_limit, "1000", 100, 10000, NULL,
	     "Most pg_stat_statements entries per cycle, by total time."),
	GKEY("texts-every", T_INT, texts_every, "60", 1, 100000, NULL,
	     "Collect all query texts every N cycles; new queryids get their text at once."),
	GKEY("settings-every", T_INT, settings_every, "60", 1, 100000, NULL,
	     "Collect pg_settings every N cycles, and whenever they changed."),
	GKEY("connect-timeout", T_DURATION, connect_timeout, "5s", 0, 0, NULL,
	     "libpq connect_timeout for every target."),
	GKEY("statement-timeout", T_DURATION, statement_timeout, "10s", 0, 0, NULL,
	     "statement_timeout of collector sessions."),
	GKEY("lock-timeout", T_DURATION, lock_timeout, "1s", 0, 0, NULL,
	     "lock_timeout of collector sessions."),
	GKEY("target-deadline", T_DURATION, target_deadline, "30s", 0, 0, NULL,
	     "Wall-clock limit for one target in one cycle; past it the target is abandoned and counted."),
	GKEY("functions-limit", T_INT, functions_limit, "1000", 10, 100000, NULL,
	     "Most pg_stat_user_functions rows per database, by total time."),
	GKEY("os-stats", T_BOOL, os_stats, "off", 0, 0, NULL,
	     "Collect host CPU, memory, disk and network counters for local targets."),
	/* [global]: the central side */
	GSECRET("central", central,
		"Conninfo of the central database used by pga load, restore and status --central. Also --db."),
	GKEY("central-schema", T_STRING, central_schema, "pga", 0, 0, NULL,
	     "Schema that holds the central tables."),
	GKEY("load-jobs", T_INT, load_jobs, "1", 1, 64, NULL,
	     "Parallel loader connections. Also --jobs."),
	GKEY("load-from", T_STRING, load_from, NULL, 0, 0, NULL,
	     "What pga load reads: a directory, a tar, s3://..., gs://..., azure://... or "
	     "dest:NAME. Default: spool-path. Also --from."),
	GKEY("load-interval", T_DURATION, load_interval, "60s", 0, 0, NULL,
	     "Time between pass starts of pga load --loop. Also --interval."),
	GKEY("load-deadline", T_DURATION, load_deadline, "0", 0, 0, NULL,
	     "A pass of pga load (--loop or not) takes no new segment after this long; "
	     "those in flight finish (0: no deadline). Also --deadline."),
	GKEY("load-retain", T_STRING, load_retain, NULL, 0, 0, NULL,
	     "Central retention: after each pass of pga load --loop, drop daily partitions "
	     "older than this (e.g. 90d). Also --retain."),
	GKEY("load-retry-max-delay", T_DURATION, load_retry_max_delay, "5m", 0, 0, NULL,
	     "Cap of the exponential backoff of pga load --loop after a failed pass."),
	/* [global]: the shipper */
	GKEY("ship-interval", T_DURATION, ship_interval, "30s", 0, 0, NULL,
	     "Pause between passes of pga ship --loop."),
	GKEY("ship-deadline", T_DURATION, ship_deadline, "0", 0, 0, NULL,
	     "Stop a one-shot pga ship after this long (0: until the spool is drained)."),

	/* [target:NAME] */
	TCONNINFO("conninfo", conninfo,
	     "libpq connection string or URI (required). dbname=* collects every database."),
	TKEY("databases", T_STRING, databases, NULL, 0, 0, NULL,
	     "'*' for every connectable non-template database, or a comma list."),
	TKEY("csvlog", T_STRING, csvlog, NULL, 0, 0, NULL,
	     "Server csvlog file or directory to ingest incrementally."),
	TKEY("data-directory", T_STRING, data_directory, NULL, 0, 0, NULL,
	     "Data directory for statvfs when os-stats is on (default: asked from the server)."),
	TKEY("os-stats", T_BOOL, os_stats, NULL, 0, 0, "os-stats",
	     "Override the global os-stats for this target."),
	TKEY("query-stats-limit", T_INT, query_stats_limit, NULL, 100, 10000,
	     "query-stats-limit", "Override the global query-stats-limit."),
	TKEY("texts-every", T_INT, texts_every, NULL, 1, 100000, "texts-every",
	     "Override the global texts-every."),
	TKEY("target-deadline", T_DURATION, target_deadline, NULL, 0, 0,
	     "target-deadline", "Override the global target-deadline."),
	TKEY("enabled", T_BOOL, enabled, "on", 0, 0, NULL,
	     "Set to off to keep a target in the file without collecting it."),

	/* [dest:NAME] */
	DKEY("url", T_STRING, url, NULL, 0, 0, S_PASSWORD,
	     "s3://bucket/prefix, gs://bucket/prefix, azure://account/container/prefix, "
	     "file:///path or postgres://... (required)."),
	DKEY("endpoint", T_STRING, endpoint, NULL, 0, 0, S_NONE,
	     "Service endpoint URL for S3-compatible stores, Azure or GCS emulators."),
	DKEY("region", T_STRING, region, "us-east-1", 0, 0, S_NONE, "S3 region."),
	DKEY("path-style", T_BOOL, path_style, "off", 0, 0, S_NONE,
	     "Use path-style S3 URLs (endpoint/bucket/key) instead of virtual hosts."),
	DKEY("access-key-id", T_STRING, access_key_id, NULL, 0, 0, S_NONE,
	     "S3 or GCS HMAC access key id (default: AWS_ACCESS_KEY_ID or the credentials file)."),
	DKEY("secret-access-key", T_STRING, secret_access_key, NULL, 0, 0, S_ALWAYS,
	     "S3 or GCS HMAC secret (default: AWS_SECRET_ACCESS_KEY or the credentials file)."),
	DKEY("session-token", T_STRING, session_token, NULL, 0, 0, S_ALWAYS,
	     "Temporary S3 session token (default: AWS_SESSION_TOKEN)."),
	DKEY("credentials-file", T_STRING, credentials_file, NULL, 0, 0, S_NONE,
	     "AWS-style credentials file (mode " PGA_SECRET_MODES ", see SECURITY in pga(1))."),
	DKEY("profile", T_STRING, profile, "default", 0, 0, S_NONE,
	     "Profile to read from the credentials file."),
	DKEY("storage-class", T_STRING, storage_class, NULL, 0, 0, S_NONE,
	     "S3 storage class for new objects."),
	DKEY("account-key", T_STRING, account_key, NULL, 0, 0, S_ALWAYS,
	     "Azure storage account key (base64) for Shared Key."),
	DKEY("sas-token", T_STRING, sas_token, NULL, 0, 0, S_ALWAYS,
	     "Azure SAS token instead of the account key."),
	DKEY("key-file", T_STRING, key_file, NULL, 0, 0, S_NONE,
	     "GCS service-account JSON key file (mode " PGA_SECRET_MODES ", see SECURITY in pga(1))."),
	DKEY("token-url", T_STRING, token_url, NULL, 0, 0, S_NONE,
	     "OAuth token endpoint override for the GCS service-account flow."),
	DKEY("ca-file", T_STRING, ca_file, NULL, 0, 0, S_NONE,
	     "CA bundle for TLS verification (verification is always on)."),
	DKEY("rate-limit", T_SIZE, rate_limit, "0", 0, 0, S_NONE,
	     "Upload rate limit in bytes per second (e.g. 10M); 0 is unlimited."),
	DKEY("max-parallel", T_INT, max_parallel, "4", 1, 64, S_NONE,
	     "Concurrent uploads to this destination."),
	DKEY("timeout", T_DURATION, timeout, "60s", 0, 0, S_NONE,
	     "Timeout of one request."),
	DKEY("retries", T_INT, retries, "8", 0, 1000, S_NONE,
	     "Attempts per segment and pass before the destination is marked failing."),
	DKEY("retry-max-delay", T_DURATION, retry_max_delay, "60s", 0, 0, S_NONE,
	     "Cap of the exponential backoff between retries."),
	DKEY("enabled", T_BOOL, enabled, "on", 0, 0, S_NONE,
	     "Set to off to keep a destination in the file without shipping to it."),
	DKEY("schema", T_STRING, schema, "pga", 0, 0, S_NONE,
	     "Schema of the central tables for a postgres:// destination."),
	ROW("create-only", SCOPE_DEST, T_ENUM, struct pga_dest, create_only, "auto", 0, 0,
	    create_only_choices, S_NONE, NULL,
	    "How object stores keep writes create-only: if-none-match trusts the store's "
	    "conditional PUT (AWS S3, GCS, Azure, MinIO, Ceph); check also looks before each PUT "
	    "(in a listing of the segment's day, at most a minute old), for stores that ignore "
	    "the condition (s3rver); auto is check for s3:// and gs:// with an endpoint, "
	    "if-none-match otherwise."),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const scope_names[] = {"global", "target", "dest"};

/* ---- value parsing ---- */

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"on", "yes", "true", "1", NULL};
	static const char *const no[] = {"off", "no", "false", "0", NULL};

	for (int i = 0; yes[i]; i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	for (int i = 0; no[i]; i++)
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	return -1;
}

static int
parse_int(const char *v, long long min, long long max, long long *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int
set_value(void *base, const struct cfg_row *k, const char *v, struct pga_err *err)
{
	char *field = (char *)base + k->off;
	long long n;
	int rc = 0;

	switch (k->type) {
	case T_STRING: {
		char **s = (char **)field;

		return pga_config_set_string(s, v, err);
	}
	case T_SIZE:
		return pga_parse_size(v, (uint64_t *)field, err);
	case T_DURATION:
		return pga_parse_duration(v, (int64_t *)field, err);
	case T_INT:
		if (parse_int(v, k->min, k->max, &n) != 0)
			return pga_fail(err, PGA_ECONFIG,
					"'%s' must be an integer from %lld to %lld, not '%s'",
					k->name, k->min, k->max, v);
		*(long long *)field = n;
		break;
	case T_BOOL:
		if (parse_bool(v, (bool *)field) != 0)
			return pga_fail(err, PGA_ECONFIG,
					"'%s' must be on or off, not '%s'", k->name, v);
		break;
	case T_ENUM:
		for (int i = 0; k->choices[i]; i++)
			if (strcmp(v, k->choices[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		rc = pga_fail(err, PGA_ECONFIG, "'%s' must be one of", k->name);
		for (int i = 0; k->choices[i]; i++)
			strlcat(err->msg, i ? ", " : " ", sizeof(err->msg)),
			strlcat(err->msg, k->choices[i], sizeof(err->msg));
		strlcat(err->msg, ", not '", sizeof(err->msg));
		strlcat(err->msg, v, sizeof(err->msg));
		strlcat(err->msg, "'", sizeof(err->msg));
		break;
	}
	return rc;
}

int
pga_config_set_string(char **field, const char *value, struct pga_err *err)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (*field != NULL) {
		explicit_bzero(*field, strlen(*field));
		free(*field);
	}
	*field = copy;
	return 0;
}

static const struct cfg_row *
find_key(enum cfg_scope scope, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].scope == scope && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int
apply_defaults(void *base, enum cfg_scope scope, struct pga_err *err)
{
	for (size_t i = 0; i < NKEYS; i++) {
		int rc;

		if (keys[i].scope != scope || keys[i].def == NULL)
			continue;
		rc = set_value(base, &keys[i], keys[i].def, err);
		if (rc < 0)
			return pga_fail(err, PGA_EINTERNAL, "bad built-in default for '%s'",
					keys[i].name);
	}
	return 0;
}

/* ---- the parser ---- */

struct parse_state {
	struct pga_config *cfg;
	enum cfg_scope scope;
	void *base;			/* struct being filled, NULL before a section */
	unsigned char *seen;		/* keys set in the current section */
	unsigned char seen_global[NKEYS];
	unsigned char (*seen_targets)[NKEYS];
	unsigned char (*seen_dests)[NKEYS];
	/* the first secret in the file, for the check of its mode */
	const char *secret_key;
	int secret_line;
};

static int
add_section(struct parse_state *ps, enum cfg_scope scope, const char *name, int line,
	    struct pga_err *err)
{
	struct pga_config *cfg = ps->cfg;
	void *arr;

	if (!pga_name_valid(name))
		return pga_fail(err, PGA_ECONFIG,
				"invalid %s name '%s' (use letters, digits, '.', '_' or '-')",
				scope_names[scope], name);
	for (size_t i = 0; scope == SCOPE_TARGET && i < cfg->ntargets; i++)
		if (strcmp(cfg->targets[i].name, name) == 0)
			return pga_fail(err, PGA_ECONFIG, "duplicate section [target:%s]", name);
	for (size_t i = 0; scope == SCOPE_DEST && i < cfg->ndests; i++)
		if (strcmp(cfg->dests[i].name, name) == 0)
			return pga_fail(err, PGA_ECONFIG, "duplicate section [dest:%s]", name);
	if (scope == SCOPE_TARGET) {
		arr = reallocarray(cfg->targets, cfg->ntargets + 1, sizeof(*cfg->targets));
		if (arr == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		cfg->targets = arr;
		arr = reallocarray(ps->seen_targets, cfg->ntargets + 1, NKEYS);
		if (arr == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		ps->seen_targets = arr;
		ps->base = &cfg->targets[cfg->ntargets];
		memset(ps->base, 0, sizeof(struct pga_target));
		ps->seen = ps->seen_targets[cfg->ntargets++];
		cfg->targets[cfg->ntargets - 1].line = line;
	} else {
		arr = reallocarray(cfg->dests, cfg->ndests + 1, sizeof(*cfg->dests));
		if (arr == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		cfg->dests = arr;
		arr = reallocarray(ps->seen_dests, cfg->ndests + 1, NKEYS);
		if (arr == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		ps->seen_dests = arr;
		ps->base = &cfg->dests[cfg->ndests];
		memset(ps->base, 0, sizeof(struct pga_dest));
		ps->seen = ps->seen_dests[cfg->ndests++];
		cfg->dests[cfg->ndests - 1].line = line;
	}
	memset(ps->seen, 0, NKEYS);
	ps->scope = scope;
	if (apply_defaults(ps->base, scope, err) < 0)
		return err->code;
	/* name is the first field of both structs */
	*(char **)ps->base = strdup(name);
	if (*(char **)ps->base == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	return 0;
}

static int
on_section(void *ctx, const struct pga_ini_loc *at, const char *name, struct pga_err *err)
{
	struct parse_state *ps = ctx;

	if (strcmp(name, "global") == 0) {
		ps->scope = SCOPE_GLOBAL;
		ps->base = &ps->cfg->global;
		ps->seen = ps->seen_global;
		return 0;
	}
	if (strncmp(name, "target:", 7) == 0)
		return add_section(ps, SCOPE_TARGET, name + 7, at->line, err);
	if (strncmp(name, "dest:", 5) == 0)
		return add_section(ps, SCOPE_DEST, name + 5, at->line, err);
	return pga_fail(err, PGA_ECONFIG,
			"unknown section [%s] (expected [global], [target:NAME] or [dest:NAME])",
			name);
}

/* Position of a target key among the target keys (key_lines index). */
static size_t
target_key_index(const struct cfg_row *k)
{
	size_t n = 0;

	for (const struct cfg_row *r = keys; r < k; r++)
		n += r->scope == SCOPE_TARGET;
	return n;
}

int
pga_config_target_line(const struct pga_target *t, const char *key)
{
	const struct cfg_row *k = find_key(SCOPE_TARGET, key);
	size_t i = k ? target_key_index(k) : 16;

	return i < 16 && t->key_lines[i] > 0 ? t->key_lines[i] : t->line;
}

/* Whether a value set for key k is something the file must keep from others. */
static bool
is_secret(const struct cfg_row *k, const char *value)
{
	switch (k->secret) {
	case S_ALWAYS:
		return *value != '\0';
	case S_PASSWORD:
		return pga_conninfo_has_password(value);
	case S_NONE:
	default:
		return false;
	}
}

static int
on_pair(void *ctx, const struct pga_ini_loc *at, const char *name, const char *value,
	struct pga_err *err)
{
	struct parse_state *ps = ctx;
	const struct cfg_row *k;
	struct pga_err verr = {0};
	size_t idx;

	if (ps->base == NULL)
		return pga_fail(err, PGA_ECONFIG, "key '%s' before any section", name);
	k = find_key(ps->scope, name);
	if (k == NULL)
		return pga_fail(err, PGA_ECONFIG, "unknown key '%s' in [%s%s%s]", name,
				scope_names[ps->scope], ps->scope == SCOPE_GLOBAL ? "" : ":",
				ps->scope == SCOPE_GLOBAL ? "" : *(char **)ps->base);
	idx = (size_t)(k - keys);
	if (ps->seen[idx])
		return pga_fail(err, PGA_ECONFIG, "duplicate key '%s'", name);
	ps->seen[idx] = 1;
	if (ps->scope == SCOPE_GLOBAL && idx < 64)
		ps->cfg->global_lines[idx] = at->line;
	if (ps->scope == SCOPE_TARGET && target_key_index(k) < 16)
		((struct pga_target *)ps->base)->key_lines[target_key_index(k)] = at->line;
	if (set_value(ps->base, k, value, &verr) < 0)
		return pga_fail(err, verr.code == PGA_ENOMEM ? PGA_ENOMEM : PGA_ECONFIG,
				"key '%s': %s", name, verr.msg);
	if (ps->secret_key == NULL && is_secret(k, value)) {
		ps->secret_key = k->name;
		ps->secret_line = at->line;
	}
	return 0;
}

static const struct pga_ini_ops config_ops = {.section = on_section, .pair = on_pair};

static void
inherit_target_keys(struct pga_config *cfg, unsigned char (*seen)[NKEYS])
{
	for (size_t t = 0; t < cfg->ntargets; t++)
		for (size_t i = 0; i < NKEYS; i++) {
			const struct cfg_row *g;
			size_t sz;

			if (keys[i].scope != SCOPE_TARGET || keys[i].inherit == NULL ||
			    seen[t][i])
				continue;
			g = find_key(SCOPE_GLOBAL, keys[i].inherit);
			sz = keys[i].type == T_BOOL ? sizeof(bool) :
			     keys[i].type == T_INT ? sizeof(long long) : sizeof(int64_t);
			memcpy((char *)&cfg->targets[t] + keys[i].off,
			       (char *)&cfg->global + g->off, sz);
		}
}

static int
check_required(const struct pga_config *cfg, const char *file, struct pga_err *err)
{
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].conninfo == NULL)
			return pga_fail(err, PGA_ECONFIG, "%s:%d: [target:%s] has no 'conninfo'",
					file, cfg->targets[i].line, cfg->targets[i].name);
	for (size_t i = 0; i < cfg->ndests; i++)
		if (cfg->dests[i].url == NULL)
			return pga_fail(err, PGA_ECONFIG, "%s:%d: [dest:%s] has no 'url'",
					file, cfg->dests[i].line, cfg->dests[i].name);
	if (cfg->global.collector != NULL && !pga_name_valid(cfg->global.collector))
		return pga_fail(err, PGA_ECONFIG,
				"%s:%d: invalid collector id '%s' (use letters, digits, '.', '_' or '-')",
				file, cfg->global_lines[find_key(SCOPE_GLOBAL, "collector") - keys],
				cfg->global.collector);
	return 0;
}

/*
 * A file that holds a secret follows the rule of secretfile.h; st is the
 * fstat of the descriptor the text came from.
 */
static int
check_secret_mode(const struct parse_state *ps, const char *file, const struct stat *st,
		  struct pga_err *err)
{
	char why[PGA_ERR_MSG_MAX];

	if (ps->secret_key == NULL || pga_secret_file_check(st, "config file", file, err) == 0)
		return 0;
	strlcpy(why, err->msg, sizeof(why));
	return pga_fail(err, PGA_EPERM,
			"%s:%d: '%s' holds a secret, and %s (pga refuses it as libpq refuses a "
			"world-readable ~/.pgpass)", file, ps->secret_line, ps->secret_key, why);
}

/* After the text: inheritance and required keys; st NULL for text in memory. */
static int
parse_done(struct parse_state *ps, const char *file, const struct stat *st,
	   struct pga_err *err)
{
	int rc = st != NULL ? check_secret_mode(ps, file, st, err) : 0;

	if (rc == 0) {
		inherit_target_keys(ps->cfg, ps->seen_targets);
		rc = check_required(ps->cfg, file, err);
	}
	return rc;
}

static int
parse_file(struct pga_config *cfg, const char *path, struct pga_err *err)
{
	struct parse_state ps = {.cfg = cfg};
	struct stat st;
	int rc = pga_ini_read_file(path, "config file", &config_ops, &ps, &st, err);

	if (rc == 0)
		rc = parse_done(&ps, path, &st, err);
	free(ps.seen_targets);
	free(ps.seen_dests);
	return rc;
}

static int
default_collector(struct pga_config *cfg, struct pga_err *err)
{
	char host[256];
	char *dot;

	if (cfg->global.collector != NULL)
		return 0;
	if (gethostname(host, sizeof(host)) != 0)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((dot = strchr(host, '.')) != NULL)
		*dot = '\0';
	if (!pga_name_valid(host))
		strlcpy(host, "localhost", sizeof(host));
	return pga_config_set_string(&cfg->global.collector, host, err);
}

int
pga_config_defaults(struct pga_config **out, struct pga_err *err)
{
	struct pga_config *cfg = calloc(1, sizeof(*cfg));
	int rc;

	*out = NULL;
	if (cfg == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = apply_defaults(&cfg->global, SCOPE_GLOBAL, err);
	if (rc == 0)
		rc = default_collector(cfg, err);
	if (rc < 0) {
		pga_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int
pga_config_load(const char *path, struct pga_config **out, struct pga_err *err)
{
	struct pga_config *cfg = NULL;
	bool explicit = true;
	int rc;

	if (path == NULL)
		path = getenv("PGA_CONFIG");
	if (path == NULL || *path == '\0') {
		path = PGA_DEFAULT_CONFIG;
		explicit = false;
	}
	rc = pga_config_defaults(&cfg, err);
	if (rc < 0)
		goto out;
	if (!explicit && access(path, F_OK) != 0)
		goto out;		/* no file: built-in defaults */
	rc = pga_config_set_string(&cfg->path, path, err);
	if (rc == 0)
		rc = parse_file(cfg, path, err);
	if (rc == 0)
		rc = default_collector(cfg, err);
out:
	if (rc < 0) {
		pga_config_free(cfg);
		cfg = NULL;
	}
	*out = cfg;
	return rc;
}

int
pga_config_load_mem(const char *name, const void *buf, size_t len,
		    struct pga_config **out, struct pga_err *err)
{
	struct pga_config *cfg = NULL;
	struct parse_state ps = {0};
	int rc = pga_config_defaults(&cfg, err);

	if (rc == 0)
		rc = pga_config_set_string(&cfg->path, name, err);
	if (rc == 0) {
		ps.cfg = cfg;
		rc = pga_ini_read_mem(name, buf, len, &config_ops, &ps, err);
	}
	if (rc == 0)
		rc = parse_done(&ps, name, NULL, err);
	free(ps.seen_targets);
	free(ps.seen_dests);
	if (rc < 0) {
		pga_config_free(cfg);
		cfg = NULL;
	}
	*out = cfg;
	return rc;
}

static void
free_strings(void *base, enum cfg_scope scope)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char **s;

		if (keys[i].scope != scope || keys[i].type != T_STRING)
			continue;
		s = (char **)((char *)base + keys[i].off);
		if (*s != NULL) {
			explicit_bzero(*s, strlen(*s));
			free(*s);
		}
	}
}

void
pga_config_free(struct pga_config *cfg)
{
	if (cfg == NULL)
		return;
	free_strings(&cfg->global, SCOPE_GLOBAL);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		free_strings(&cfg->targets[i], SCOPE_TARGET);
		free(cfg->targets[i].name);
	}
	for (size_t i = 0; i < cfg->ndests; i++) {
		free_strings(&cfg->dests[i], SCOPE_DEST);
		free(cfg->dests[i].name);
	}
	free(cfg->targets);
	free(cfg->dests);
	free(cfg->path);
	free(cfg);
}

int
pga_config_dest_init(struct pga_dest *d, const char *name, const char *url,
		     struct pga_err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = apply_defaults(d, SCOPE_DEST, err);
	if (rc == 0)
		rc = pga_config_set_string(&d->name, name, err);
	if (rc == 0)
		rc = pga_config_set_string(&d->url, url, err);
	if (rc < 0)
		pga_config_dest_release(d);
	return rc;
}

void
pga_config_dest_release(struct pga_dest *d)
{
	free_strings(d, SCOPE_DEST);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

const char *
pga_config_where(const struct pga_config *cfg, const char *key, char *buf,
		 size_t cap)
{
	const struct cfg_row *k = find_key(SCOPE_GLOBAL, key);
	size_t idx = k ? (size_t)(k - keys) : 64;

	if (cfg->path != NULL && idx < 64 && cfg->global_lines[idx] > 0)
		snprintf(buf, cap, "%s:%d", cfg->path, cfg->global_lines[idx]);
	else
		snprintf(buf, cap, "%s", cfg->path ? cfg->path : "defaults");
	return buf;
}

bool
pga_name_valid(const char *name)
{
	size_t n = 0;

	for (const char *p = name; *p; p++, n++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return n > 0 && n <= PGA_NAME_MAX && name[0] != '.' && name[0] != '-';
}

/* ---- documentation from the table ---- */

static const char *const type_names[] = {"string", "size", "duration",
					 "integer", "on|off", "choice"};

static void
print_wrapped(FILE *out, const char *prefix, const char *text, int width)
{
	const char *p = text;

	while (*p) {
		int n = (int)strlen(p);

		if (n > width) {
			n = width;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = width;
		}
		fprintf(out, "%s%.*s\n", prefix, n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* scdoc treats * and _ as markup: escape them in running text */
static void
print_scdoc_text(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '*' || *p == '_' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
}

/* What the rule of secretfile.h means for a key, after its doc. */
static const char *const secret_notes[] = {
	[S_NONE] = "",
	[S_ALWAYS] = " A secret: the file that sets it must be mode " PGA_SECRET_MODES
		     " (see SECURITY in pga(1)).",
	[S_PASSWORD] = " With a password in it, the file must be mode " PGA_SECRET_MODES
		       " (see SECURITY in pga(1)).",
};

static void
print_scope_doc(FILE *out, enum cfg_scope scope, enum pga_config_doc kind)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cfg_row *k = &keys[i];

		char doc[1024];

		if (k->scope != scope)
			continue;
		snprintf(doc, sizeof(doc), "%s%s", k->doc, secret_notes[k->secret]);
		if (kind == PGA_DOC_EXAMPLE) {
			print_wrapped(out, "# ", doc, 76);
			fprintf(out, "#%s = %s\n\n", k->name,
				k->def ? k->def : k->inherit ? "(global value)" : "");
		} else if (kind == PGA_DOC_SCDOC) {
			fprintf(out, "*%s* (%s%s", k->name, type_names[k->type],
				k->def ? ", default " : "");
			print_scdoc_text(out, k->def ? k->def : "");
			fprintf(out, ")\n\t");
			print_scdoc_text(out, doc);
			fprintf(out, "\n\n");
		} else {
			fprintf(out, "  %-20s %-9s %-15s\n", k->name, type_names[k->type],
				k->def ? k->def : "-");
			print_wrapped(out, "      ", doc, 70);
		}
	}
}

void
pga_config_print_doc(FILE *out, enum pga_config_doc kind)
{
	static const char *const heads[] = {
		"[global]", "[target:NAME]", "[dest:NAME]",
	};

	if (kind == PGA_DOC_EXAMPLE)
		fprintf(out, "# pga.conf - generated by 'pga help config --example'.\n"
			     "# Every key with its default; uncomment to change.\n"
			     "# Values are taken literally: no quotes, no inline comments.\n\n");
	for (int s = SCOPE_GLOBAL; s <= SCOPE_DEST; s++) {
		if (kind == PGA_DOC_SCDOC)
			fprintf(out, "## %s\n\n", heads[s]);
		else
			fprintf(out, "%s%s\n%s", kind == PGA_DOC_EXAMPLE && s ? "#" : "",
				heads[s], kind == PGA_DOC_EXAMPLE ? "\n" : "");
		print_scope_doc(out, (enum cfg_scope)s, kind);
		fprintf(out, "\n");
	}
}
