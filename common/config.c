/*
 * pga.conf and the PGA_* environment read through the option table
 * (options.h), and the command line's options applied over both.
 */
#include "common/config.h"

#include <ctype.h>
#include <dirent.h>
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

static const char *const scope_names[] = {
	[PGA_SCOPE_ARGS] = "command line", [PGA_SCOPE_GLOBAL] = "global",
	[PGA_SCOPE_TARGET] = "target", [PGA_SCOPE_DEST] = "dest", [PGA_SCOPE_METRIC] = "metric",
};

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

static void
list_free(struct pga_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Add "a,b,c" (or one name) to a list; an empty item is refused. */
static int
list_add(struct pga_list *l, const struct pga_opt *k, const char *v, struct pga_err *err)
{
	const char *p = v;

	for (;;) {
		size_t n = strcspn(p, ",");
		void *arr;

		if (n == 0)
			return pga_fail(err, PGA_ECONFIG, "'%s' has an empty name in '%s'", k->name, v);
		if (l->n == PGA_LIST_MAX)
			return pga_fail(err, PGA_ECONFIG, "'%s' has more than %d names", k->name,
					PGA_LIST_MAX);
		arr = reallocarray(l->v, l->n + 1, sizeof(*l->v));
		if (arr == NULL || (l->v = arr, l->v[l->n] = strndup(p, n)) == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		l->n++;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static int
set_value(void *base, const struct pga_opt *k, const char *v, struct pga_err *err)
{
	char *field = (char *)base + k->off;
	long long n;
	int rc = 0;

	switch (k->type) {
	case PGA_OPT_STRING:
		return pga_config_set_string((char **)field, v, err);
	case PGA_OPT_LIST:
		return list_add((struct pga_list *)field, k, v, err);
	case PGA_OPT_SIZE:
		return pga_parse_size(v, (uint64_t *)field, err);
	case PGA_OPT_DURATION:
		return pga_parse_duration_unit(v, k->bare_ms ? 1000 : PGA_USEC_PER_SEC,
					       (int64_t *)field, err);
	case PGA_OPT_INT:
		if (parse_int(v, k->min, k->max, &n) != 0)
			return pga_fail(err, PGA_ECONFIG,
					"'%s' must be an integer from %lld to %lld, not '%s'",
					k->name, k->min, k->max, v);
		*(long long *)field = n;
		break;
	case PGA_OPT_BOOL:
		if (parse_bool(v, (bool *)field) != 0)
			return pga_fail(err, PGA_ECONFIG,
					"'%s' must be on or off, not '%s'", k->name, v);
		break;
	case PGA_OPT_ENUM:
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

/* Release what set_value() allocated in a struct of scope. */
static void
free_strings(void *base, enum pga_opt_scope scope)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *k = &pga_opts[i];
		char **s = (char **)((char *)base + k->off);

		if (k->scope != scope)
			continue;
		if (k->type == PGA_OPT_LIST)
			list_free((struct pga_list *)((char *)base + k->off));
		if (k->type != PGA_OPT_STRING || *s == NULL)
			continue;
		explicit_bzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

int
pga_config_check_value(const struct pga_opt *o, const char *value, struct pga_err *err)
{
	union {
		struct pga_global g;
		struct pga_target t;
		struct pga_dest d;
		struct pga_metric m;
		struct pga_args a;
	} scratch;
	int rc;

	memset(&scratch, 0, sizeof(scratch));
	rc = set_value(&scratch, o, value, err);
	free_strings(&scratch, o->scope);
	return rc;
}

static const struct pga_opt *
find_key(enum pga_opt_scope scope, const char *name)
{
	for (size_t i = 0; i < pga_nopts; i++)
		if (pga_opts[i].scope == scope && strcmp(pga_opts[i].name, name) == 0)
			return &pga_opts[i];
	return NULL;
}

static int
apply_defaults(void *base, enum pga_opt_scope scope, struct pga_err *err)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		int rc;

		if (pga_opts[i].scope != scope || pga_opts[i].def == NULL)
			continue;
		rc = set_value(base, &pga_opts[i], pga_opts[i].def, err);
		if (rc < 0)
			return pga_fail(err, PGA_EINTERNAL, "bad built-in default for '%s'",
					pga_opts[i].name);
	}
	return 0;
}

/* ---- the file ---- */

struct parse_state {
	struct pga_config *cfg;
	enum pga_opt_scope scope;
	void *base;			/* struct being filled, NULL before a section */
	int *lines;			/* line of each key set in the current section */
	unsigned char *files;		/* and its file */
	unsigned char file;		/* the file being read, index in cfg->files */
	int depth;			/* includes above it */
	bool in_memory;			/* text from memory: no includes (fuzzing) */
	/* the first secret in this file, for the check of its mode */
	const char *secret_key;
	int secret_line;
};

/*
 * A section declared again: an error in the file that declared it, the
 * same section continued in another (a conf.d file overriding its keys).
 */
/* The keys that follow go to base, their lines and files to lines and files. */
static void
enter_section(struct parse_state *ps, enum pga_opt_scope scope, void *base, int *lines,
	      unsigned char *files)
{
	ps->scope = scope;
	ps->base = base;
	ps->lines = lines;
	ps->files = files;
}

static int
reopen_section(struct parse_state *ps, enum pga_opt_scope scope, void *base,
	       unsigned char file, int *lines, unsigned char *files, const char *name,
	       struct pga_err *err)
{
	if (file == ps->file)
		return pga_fail(err, PGA_ECONFIG, "duplicate section [%s:%s]",
				scope_names[scope], name);
	enter_section(ps, scope, base, lines, files);
	return 0;
}

/* A metric's name, as the segment format has it: [a-z][a-z0-9_]{0,62}. */
static bool
metric_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63 || !(name[0] >= 'a' && name[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			return false;
	return true;
}

static int
add_metric(struct parse_state *ps, const char *name, int line, struct pga_err *err)
{
	struct pga_config *cfg = ps->cfg;
	struct pga_metric *m;
	void *arr;

	if (!metric_name_valid(name))
		return pga_fail(err, PGA_ECONFIG, "invalid metric name '%s' (use [a-z][a-z0-9_]"
				", at most 63 characters)", name);
	for (size_t i = 0; i < cfg->nmetrics; i++)
		if (strcmp(cfg->metrics[i].name, name) == 0)
			return reopen_section(ps, PGA_SCOPE_METRIC, &cfg->metrics[i],
					      cfg->metrics[i].file, cfg->metrics[i].key_lines,
					      cfg->metrics[i].key_files, name, err);
	if (cfg->nmetrics >= PGA_METRICS_MAX)
		return pga_fail(err, PGA_ECONFIG, "more than %d [metric:NAME] sections",
				PGA_METRICS_MAX);
	arr = reallocarray(cfg->metrics, cfg->nmetrics + 1, sizeof(*cfg->metrics));
	if (arr == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	cfg->metrics = arr;
	m = &cfg->metrics[cfg->nmetrics++];
	memset(m, 0, sizeof(*m));
	m->line = line;
	m->file = ps->file;
	enter_section(ps, PGA_SCOPE_METRIC, m, m->key_lines, m->key_files);
	if (apply_defaults(m, PGA_SCOPE_METRIC, err) < 0)
		return err->code;
	m->name = strdup(name);
	return m->name == NULL ? pga_fail(err, PGA_ENOMEM, "out of memory") : 0;
}

static int
add_section(struct parse_state *ps, enum pga_opt_scope scope, const char *name, int line,
	    struct pga_err *err)
{
	struct pga_config *cfg = ps->cfg;
	void *arr;

	if (scope == PGA_SCOPE_METRIC)
		return add_metric(ps, name, line, err);
	if (!pga_name_valid(name))
		return pga_fail(err, PGA_ECONFIG,
				"invalid %s name '%s' (use letters, digits, '.', '_' or '-')",
				scope_names[scope], name);
	for (size_t i = 0; scope == PGA_SCOPE_TARGET && i < cfg->ntargets; i++)
		if (strcmp(cfg->targets[i].name, name) == 0)
			return reopen_section(ps, scope, &cfg->targets[i], cfg->targets[i].file,
					      cfg->targets[i].key_lines, cfg->targets[i].key_files,
					      name, err);
	for (size_t i = 0; scope == PGA_SCOPE_DEST && i < cfg->ndests; i++)
		if (strcmp(cfg->dests[i].name, name) == 0)
			return reopen_section(ps, scope, &cfg->dests[i], cfg->dests[i].file,
					      cfg->dests[i].key_lines, cfg->dests[i].key_files,
					      name, err);
	if (scope == PGA_SCOPE_TARGET) {
		struct pga_target *t;

		arr = reallocarray(cfg->targets, cfg->ntargets + 1, sizeof(*cfg->targets));
		if (arr == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		cfg->targets = arr;
		t = &cfg->targets[cfg->ntargets++];
		memset(t, 0, sizeof(*t));
		t->line = line;
		t->file = ps->file;
		enter_section(ps, scope, t, t->key_lines, t->key_files);
	} else {
		struct pga_dest *d;

		arr = reallocarray(cfg->dests, cfg->ndests + 1, sizeof(*cfg->dests));
		if (arr == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		cfg->dests = arr;
		d = &cfg->dests[cfg->ndests++];
		memset(d, 0, sizeof(*d));
		d->line = line;
		d->file = ps->file;
		enter_section(ps, scope, d, d->key_lines, d->key_files);
	}
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
		enter_section(ps, PGA_SCOPE_GLOBAL, &ps->cfg->global, ps->cfg->line,
			      ps->cfg->line_file);
		return 0;
	}
	if (strncmp(name, "target:", 7) == 0)
		return add_section(ps, PGA_SCOPE_TARGET, name + 7, at->line, err);
	if (strncmp(name, "dest:", 5) == 0)
		return add_section(ps, PGA_SCOPE_DEST, name + 5, at->line, err);
	if (strncmp(name, "metric:", 7) == 0)
		return add_section(ps, PGA_SCOPE_METRIC, name + 7, at->line, err);
	return pga_fail(err, PGA_ECONFIG, "unknown section [%s] (expected [global], "
			"[target:NAME], [dest:NAME] or [metric:NAME])", name);
}

static const char *
file_name(const struct pga_config *cfg, unsigned char file)
{
	return file < cfg->nfiles ? cfg->files[file] : cfg->path ? cfg->path : "config";
}

/* A key of a [target:]/[dest:] section: set in a file, the environment, or not. */
static const char *
section_where(const struct pga_config *cfg, const char *section, const char *name,
	      int header_line, unsigned char header_file, const int *lines,
	      const unsigned char *files, const char *key, char *buf, size_t cap)
{
	const struct pga_opt *k = find_key(!strcmp(section, "target") ? PGA_SCOPE_TARGET :
					   !strcmp(section, "metric") ? PGA_SCOPE_METRIC :
					   PGA_SCOPE_DEST, key);
	size_t i = k ? pga_opt_index(k) : 0;
	char env[PGA_ENV_NAME_MAX];

	if (k != NULL && lines[i] == PGA_LINE_ENV)
		snprintf(buf, cap, "environment variable %s",
			 pga_section_env(section, name, k, env, sizeof(env)));
	else if (k != NULL && lines[i] > 0)
		snprintf(buf, cap, "%s:%d", file_name(cfg, files[i]), lines[i]);
	else
		snprintf(buf, cap, "%s:%d", file_name(cfg, header_file), header_line);
	return buf;
}

const char *
pga_config_target_where(const struct pga_config *cfg, const struct pga_target *t,
			const char *key, char *buf, size_t cap)
{
	return section_where(cfg, "target", t->name, t->line, t->file, t->key_lines,
			     t->key_files, key, buf, cap);
}

const char *
pga_config_dest_where(const struct pga_config *cfg, const struct pga_dest *d,
		      const char *key, char *buf, size_t cap)
{
	return section_where(cfg, "dest", d->name, d->line, d->file, d->key_lines,
			     d->key_files, key, buf, cap);
}

const char *
pga_config_metric_where(const struct pga_config *cfg, const struct pga_metric *m,
			const char *key, char *buf, size_t cap)
{
	return section_where(cfg, "metric", m->name, m->line, m->file, m->key_lines,
			     m->key_files, key, buf, cap);
}

/* Whether a value set for key k is something the file must keep from others. */
static bool
is_secret(const struct pga_opt *k, const char *value)
{
	switch (k->secret) {
	case PGA_SECRET_ALWAYS:
		return *value != '\0';
	case PGA_SECRET_PASSWORD:
		return pga_conninfo_has_password(value);
	case PGA_SECRET_NONE:
	default:
		return false;
	}
}

static int include_directive(struct parse_state *ps, const struct pga_ini_loc *at,
			     const char *name, const char *value, struct pga_err *err);

static int
on_pair(void *ctx, const struct pga_ini_loc *at, const char *name, const char *value,
	struct pga_err *err)
{
	struct parse_state *ps = ctx;
	const struct pga_opt *k;
	struct pga_err verr = {0};
	size_t idx;

	if (!strcmp(name, "include") || !strcmp(name, "include-if-exists") ||
	    !strcmp(name, "include-dir"))
		return include_directive(ps, at, name, value, err);
	if (ps->base == NULL)
		return pga_fail(err, PGA_ECONFIG, "key '%s' before any section", name);
	k = find_key(ps->scope, name);
	if (k == NULL)
		return pga_fail(err, PGA_ECONFIG, "unknown key '%s' in [%s%s%s]", name,
				scope_names[ps->scope], ps->scope == PGA_SCOPE_GLOBAL ? "" : ":",
				ps->scope == PGA_SCOPE_GLOBAL ? "" : *(char **)ps->base);
	idx = pga_opt_index(k);
	/* twice in one file is a mistake; a later file overrides (conf.d) */
	if (ps->lines[idx] > 0 && ps->files[idx] == ps->file)
		return pga_fail(err, PGA_ECONFIG, "duplicate key '%s' (first at line %d)", name,
				ps->lines[idx]);
	if (ps->lines[idx] > 0 && k->type == PGA_OPT_LIST)
		list_free((struct pga_list *)((char *)ps->base + k->off));
	ps->lines[idx] = at->line;
	ps->files[idx] = ps->file;
	if (ps->scope == PGA_SCOPE_GLOBAL)
		ps->cfg->src[idx] = PGA_SRC_FILE;
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

/* A [target:] key not set in its section takes the [global] key's value. */
static void
inherit_target_keys(struct pga_config *cfg)
{
	for (size_t t = 0; t < cfg->ntargets; t++)
		for (size_t i = 0; i < pga_nopts; i++) {
			const struct pga_opt *k = &pga_opts[i], *g;
			size_t sz;

			if (k->scope != PGA_SCOPE_TARGET || k->inherit == NULL ||
			    cfg->targets[t].key_lines[i] != 0)
				continue;
			g = find_key(PGA_SCOPE_GLOBAL, k->inherit);
			sz = k->type == PGA_OPT_BOOL ? sizeof(bool) :
			     k->type == PGA_OPT_INT ? sizeof(long long) : sizeof(int64_t);
			memcpy((char *)&cfg->targets[t] + k->off, (char *)&cfg->global + g->off, sz);
		}
}

static int
check_collector(const struct pga_config *cfg, bool in_file, struct pga_err *err)
{
	char where[PATH_MAX + 32];

	if (cfg->global.collector == NULL || pga_name_valid(cfg->global.collector))
		return 0;
	pga_config_where(cfg, "collector", where, sizeof(where));
	return pga_fail(err, in_file ? PGA_ECONFIG : PGA_EINVAL,
			"%s: invalid collector id '%s' (use letters, digits, '.', '_' or '-')",
			where, cfg->global.collector);
}

static int
check_required(const struct pga_config *cfg, struct pga_err *err)
{
	char where[PATH_MAX + 32];

	for (size_t i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].conninfo == NULL)
			return pga_fail(err, PGA_ECONFIG, "%s: [target:%s] has no 'conninfo'",
					pga_config_target_where(cfg, &cfg->targets[i], "",
								where, sizeof(where)),
					cfg->targets[i].name);
	for (size_t i = 0; i < cfg->ndests; i++)
		if (cfg->dests[i].url == NULL)
			return pga_fail(err, PGA_ECONFIG, "%s: [dest:%s] has no 'url'",
					pga_config_dest_where(cfg, &cfg->dests[i], "",
							      where, sizeof(where)),
					cfg->dests[i].name);
	for (size_t i = 0; i < cfg->nmetrics; i++)
		if (cfg->metrics[i].sql == NULL)
			return pga_fail(err, PGA_ECONFIG, "%s: [metric:%s] has no 'sql'",
					pga_config_metric_where(cfg, &cfg->metrics[i], "",
								where, sizeof(where)),
					cfg->metrics[i].name);
	return check_collector(cfg, true, err);
}

/*
 * A file that holds a secret follows the rule of secretfile.h; st is the
 * fstat of the descriptor the text came from.  Each included file is
 * judged by itself: a secret in conf.d/secret.conf needs that file private,
 * not the pga.conf that includes it.
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

/* Keep the name of a file read, for "file:line" in later messages. */
static int
add_file(struct pga_config *cfg, const char *path, unsigned char *idx, struct pga_err *err)
{
	if (cfg->nfiles >= PGA_CONFIG_FILES_MAX)
		return pga_fail(err, PGA_ECONFIG, "more than %d configuration files included",
				PGA_CONFIG_FILES_MAX);
	cfg->files[cfg->nfiles] = strdup(path);
	if (cfg->files[cfg->nfiles] == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	*idx = (unsigned char)cfg->nfiles++;
	return 0;
}

/*
 * Read one file into the configuration, as if its text stood where the
 * parent's include did (the section carries in and out, as postgresql.conf
 * and pgbouncer's %include).  parent NULL: the top file.
 */
static int
read_one(struct parse_state *parent, struct pga_config *cfg, const char *path,
	 struct pga_err *err)
{
	struct parse_state ps = {.cfg = cfg};
	struct stat st;
	int rc;

	if (parent != NULL) {
		ps = *parent;
		ps.depth++;
		ps.secret_key = NULL;
	}
	rc = add_file(cfg, path, &ps.file, err);
	if (rc == 0)
		rc = pga_ini_read_file(path, "config file", &config_ops, &ps, &st, err);
	if (rc == 0)
		rc = check_secret_mode(&ps, path, &st, err);
	if (rc == 0 && parent != NULL)	/* the section goes on after the include */
		enter_section(parent, ps.scope, ps.base, ps.lines, ps.files);
	return rc;
}

/* path as the including file names it: relative to that file's directory. */
static int
include_path(const char *from, const char *value, char *buf, size_t cap, struct pga_err *err)
{
	const char *slash = strrchr(from, '/');
	int n;

	if (*value == '\0')
		return pga_fail(err, PGA_ECONFIG, "empty file name");
	if (value[0] == '/' || slash == NULL)
		n = snprintf(buf, cap, "%s", value);
	else
		n = snprintf(buf, cap, "%.*s/%s", (int)(slash - from), from, value);
	if (n < 0 || (size_t)n >= cap)
		return pga_fail(err, PGA_ECONFIG, "path too long: '%s'", value);
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.conf files of dir, sorted by name (strcmp), as include-dir reads them. */
static int
read_dir(struct parse_state *ps, const char *dir, struct pga_err *err)
{
	char *names[PGA_CONFIG_FILES_MAX + 1], path[PATH_MAX];
	size_t n = 0;
	struct dirent *e;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL)
		return pga_fail(err, PGA_ECONFIG, "could not open directory '%s': %s", dir,
				strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".conf") != 0)
			continue;
		if (n >= PGA_CONFIG_FILES_MAX)
			rc = pga_fail(err, PGA_ECONFIG, "more than %d files in '%s'",
				      PGA_CONFIG_FILES_MAX, dir);
		else if ((names[n++] = strdup(e->d_name)) == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	closedir(d);
	if (rc == 0)
		qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
		    sizeof(path))
			rc = pga_fail(err, PGA_ECONFIG, "path too long: '%s/%s'", dir, names[i]);
		if (rc == 0)
			rc = read_one(ps, ps->cfg, path, err);
		free(names[i]);
	}
	return rc;
}

/* include = FILE, include-if-exists = FILE, include-dir = DIR. */
static int
include_directive(struct parse_state *ps, const struct pga_ini_loc *at, const char *name,
		  const char *value, struct pga_err *err)
{
	char path[PATH_MAX];
	int rc;

	if (ps->in_memory)
		return pga_fail(err, PGA_ECONFIG, "'%s' in text that is not a file", name);
	if (ps->depth >= PGA_CONFIG_DEPTH_MAX)
		return pga_fail(err, PGA_ECONFIG,
				"'%s' nested more than %d deep (does a file include itself?)",
				name, PGA_CONFIG_DEPTH_MAX);
	rc = include_path(at->file, value, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	if (!strcmp(name, "include-dir"))
		return read_dir(ps, path, err);
	if (!strcmp(name, "include-if-exists") && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	rc = read_one(ps, ps->cfg, path, err);
	if (rc == PGA_ENOTFOUND)
		err->code = PGA_ECONFIG;
	return rc < 0 ? err->code : 0;
}

/* After the text: inheritance and required keys. */
static int
parse_done(struct parse_state *ps, struct pga_err *err)
{
	inherit_target_keys(ps->cfg);
	return check_required(ps->cfg, err);
}

static int
parse_file(struct pga_config *cfg, const char *path, struct pga_err *err)
{
	struct parse_state ps = {.cfg = cfg};
	int rc = read_one(NULL, cfg, path, err);

	return rc == 0 ? parse_done(&ps, err) : rc;
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
	rc = apply_defaults(&cfg->global, PGA_SCOPE_GLOBAL, err);
	if (rc == 0)
		rc = apply_defaults(&cfg->args, PGA_SCOPE_ARGS, err);
	if (rc == 0)
		rc = default_collector(cfg, err);
	if (rc < 0) {
		pga_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

/* path, else $PGA_CONFIG, else the default (*explicit false: may be absent). */
static const char *
config_path(const char *path, bool *explicit)
{
	char env[64];

	*explicit = true;
	if (path == NULL)
		path = getenv(pga_opt_env(pga_opt_find("config"), env, sizeof(env)));
	if (path == NULL || *path == '\0') {
		path = PGA_DEFAULT_CONFIG;
		*explicit = false;
	}
	return path;
}

int
pga_config_load(const char *path, struct pga_config **out, struct pga_err *err)
{
	struct pga_config *cfg = NULL;
	bool explicit;
	int rc;

	path = config_path(path, &explicit);
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
		ps.in_memory = true;
		rc = add_file(cfg, name, &ps.file, err);
	}
	if (rc == 0)
		rc = pga_ini_read_mem(name, buf, len, &config_ops, &ps, err);
	if (rc == 0)
		rc = parse_done(&ps, err);
	if (rc < 0) {
		pga_config_free(cfg);
		cfg = NULL;
	}
	*out = cfg;
	return rc;
}

/* ---- the environment and the command line ---- */

static void *
opt_base(struct pga_config *cfg, const struct pga_opt *o)
{
	return o->scope == PGA_SCOPE_GLOBAL ? (void *)&cfg->global : (void *)&cfg->args;
}

/* One value over what the file (or the environment) said; lists start afresh. */
static int
override(struct pga_config *cfg, const struct pga_opt *o, const char *value,
	 enum pga_src src, struct pga_err *err)
{
	size_t idx = pga_opt_index(o);

	if (o->type == PGA_OPT_LIST && cfg->src[idx] < src)
		list_free((struct pga_list *)((char *)opt_base(cfg, o) + o->off));
	cfg->src[idx] = (unsigned char)src;
	return set_value(opt_base(cfg, o), o, value, err);
}

static int
apply_env(struct pga_config *cfg, unsigned cmd, struct pga_err *err)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];
		struct pga_err verr = {0};
		const char *value;
		char env[96];

		if (pga_opt_env(o, env, sizeof(env)) == NULL ||
		    (o->scope == PGA_SCOPE_ARGS && !(o->cmds & cmd)) ||
		    (value = getenv(env)) == NULL)
			continue;
		if (override(cfg, o, value, PGA_SRC_ENV, &verr) < 0)
			return pga_fail(err, verr.code == PGA_ENOMEM ? PGA_ENOMEM : PGA_EINVAL,
					"environment variable %s: %s", env, verr.msg);
	}
	return 0;
}

/*
 * PGA_TARGET_<NAME>_<KEY>, PGA_DEST_<NAME>_<KEY> and PGA_METRIC_<NAME>_<KEY> set a key of a
 * section the file declares (the name in capitals, anything but a letter
 * or digit as '_').  They cannot declare a section: its name would have to
 * be guessed back from the variable's.
 */
static int
apply_env_section(const char *section, const char *name, void *base, int *lines,
		  enum pga_opt_scope scope, struct pga_err *err)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];
		struct pga_err verr = {0};
		const char *value;
		char env[PGA_ENV_NAME_MAX];

		if (o->scope != scope ||
		    (value = getenv(pga_section_env(section, name, o, env, sizeof(env)))) == NULL)
			continue;
		if (o->type == PGA_OPT_LIST)
			list_free((struct pga_list *)((char *)base + o->off));
		if (set_value(base, o, value, &verr) < 0)
			return pga_fail(err, verr.code == PGA_ENOMEM ? PGA_ENOMEM : PGA_EINVAL,
					"environment variable %s: %s", env, verr.msg);
		lines[i] = PGA_LINE_ENV;
	}
	return 0;
}

static int
apply_env_sections(struct pga_config *cfg, struct pga_err *err)
{
	int rc = 0;

	for (size_t t = 0; rc == 0 && t < cfg->ntargets; t++)
		rc = apply_env_section("target", cfg->targets[t].name, &cfg->targets[t],
				       cfg->targets[t].key_lines, PGA_SCOPE_TARGET, err);
	for (size_t d = 0; rc == 0 && d < cfg->ndests; d++)
		rc = apply_env_section("dest", cfg->dests[d].name, &cfg->dests[d],
				       cfg->dests[d].key_lines, PGA_SCOPE_DEST, err);
	for (size_t m = 0; rc == 0 && m < cfg->nmetrics; m++)
		rc = apply_env_section("metric", cfg->metrics[m].name, &cfg->metrics[m],
				       cfg->metrics[m].key_lines, PGA_SCOPE_METRIC, err);
	return rc;
}

static int
apply_argv(struct pga_config *cfg, const struct pga_argv *argv, struct pga_err *err)
{
	for (size_t i = 0; argv != NULL && i < argv->n; i++) {
		const struct pga_opt *o = argv->v[i].opt;
		struct pga_err verr = {0};
		char flag[64];

		if (o->scope > PGA_SCOPE_GLOBAL)
			continue;
		if (override(cfg, o, argv->v[i].value, PGA_SRC_ARGV, &verr) < 0)
			return pga_fail(err, verr.code == PGA_ENOMEM ? PGA_ENOMEM : PGA_EINVAL,
					"%s: %s", pga_opt_flag(o, flag, sizeof(flag)), verr.msg);
	}
	return 0;
}

int
pga_config_resolve(const struct pga_config_src *src, struct pga_config **out,
		   struct pga_err *err)
{
	struct pga_config *cfg = NULL;
	int rc = src->no_file ? pga_config_defaults(&cfg, err) :
		 pga_config_load(src->path, &cfg, err);

	if (rc == 0)
		rc = apply_env(cfg, src->cmd, err);
	if (rc == 0)
		rc = apply_env_sections(cfg, err);
	if (rc == 0)
		rc = apply_argv(cfg, src->argv, err);
	if (rc == 0) {
		inherit_target_keys(cfg);
		rc = check_collector(cfg, false, err);
	}
	if (rc < 0) {
		pga_config_free(cfg);
		cfg = NULL;
	}
	*out = cfg;
	return rc;
}

void
pga_config_free(struct pga_config *cfg)
{
	if (cfg == NULL)
		return;
	free_strings(&cfg->global, PGA_SCOPE_GLOBAL);
	free_strings(&cfg->args, PGA_SCOPE_ARGS);
	for (size_t i = 0; i < cfg->ntargets; i++) {
		free_strings(&cfg->targets[i], PGA_SCOPE_TARGET);
		free(cfg->targets[i].name);
	}
	for (size_t i = 0; i < cfg->ndests; i++) {
		free_strings(&cfg->dests[i], PGA_SCOPE_DEST);
		free(cfg->dests[i].name);
	}
	for (size_t i = 0; i < cfg->nmetrics; i++) {
		free_strings(&cfg->metrics[i], PGA_SCOPE_METRIC);
		free(cfg->metrics[i].name);
	}
	free(cfg->targets);
	free(cfg->dests);
	free(cfg->metrics);
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->path);
	free(cfg);
}

int
pga_config_dest_init(struct pga_dest *d, const char *name, const char *url,
		     struct pga_err *err)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = apply_defaults(d, PGA_SCOPE_DEST, err);
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
	free_strings(d, PGA_SCOPE_DEST);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

int
pga_config_dest_check_kind(const struct pga_dest *d, const char *kind, struct pga_err *err)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *k = &pga_opts[i];

		if (k->scope != PGA_SCOPE_DEST || d->key_lines[i] == 0 ||
		    pga_opt_applies_to_kind(k, kind))
			continue;
		if (d->key_lines[i] == PGA_LINE_ENV)
			return pga_fail(err, PGA_ECONFIG, "'%s' (from the environment) is for %s "
					"destinations, not %s", k->name, k->kinds, kind);
		return pga_fail(err, PGA_ECONFIG, "'%s' (line %d) is for %s destinations, not %s",
				k->name, d->key_lines[i], k->kinds, kind);
	}
	return 0;
}

const char *
pga_config_where(const struct pga_config *cfg, const char *key, char *buf,
		 size_t cap)
{
	const struct pga_opt *k = pga_opt_find(key);
	size_t idx = k ? pga_opt_index(k) : 0;
	char env[96];

	if (k != NULL && cfg->src[idx] == PGA_SRC_ARGV)
		snprintf(buf, cap, "command line");
	else if (k != NULL && cfg->src[idx] == PGA_SRC_ENV)
		snprintf(buf, cap, "environment variable %s", pga_opt_env(k, env, sizeof(env)));
	else if (k != NULL && cfg->path != NULL && cfg->src[idx] == PGA_SRC_FILE)
		snprintf(buf, cap, "%s:%d", file_name(cfg, cfg->line_file[idx]), cfg->line[idx]);
	else
		snprintf(buf, cap, "%s", cfg->path ? cfg->path : "defaults");
	return buf;
}

bool
pga_config_given(const struct pga_config *cfg, const char *name)
{
	const struct pga_opt *k = pga_opt_find(name);

	return k != NULL && cfg->src[pga_opt_index(k)] != PGA_SRC_DEFAULT;
}

const char *
pga_config_format(const struct pga_config *cfg, const struct pga_opt *o, char *buf,
		  size_t cap)
{
	return pga_config_format_in(o->scope == PGA_SCOPE_GLOBAL ? (const void *)&cfg->global :
				    (const void *)&cfg->args, o, buf, cap);
}

const char *
pga_config_format_in(const void *base, const struct pga_opt *o, char *buf, size_t cap)
{
	const char *field = (const char *)base + o->off;

	buf[0] = '\0';
	switch (o->type) {
	case PGA_OPT_STRING:
		strlcpy(buf, *(char *const *)field ? *(char *const *)field : "", cap);
		break;
	case PGA_OPT_LIST:
		for (size_t i = 0; i < ((const struct pga_list *)field)->n; i++) {
			strlcat(buf, i ? "," : "", cap);
			strlcat(buf, ((const struct pga_list *)field)->v[i], cap);
		}
		break;
	case PGA_OPT_SIZE:
		snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case PGA_OPT_DURATION:
		snprintf(buf, cap, "%lldus", (long long)*(const int64_t *)field);
		break;
	case PGA_OPT_INT:
		snprintf(buf, cap, "%lld", *(const long long *)field);
		break;
	case PGA_OPT_BOOL:
		strlcpy(buf, *(const bool *)field ? "on" : "off", cap);
		break;
	case PGA_OPT_ENUM:
		strlcpy(buf, o->choices[*(const int *)field], cap);
		break;
	}
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
