/*
 * config.h - the configuration file and its single table of keys
 *
 * pga.conf is an INI file (read by common/inifile.h, which states the
 * syntax and its limits): a [global] section, any number of
 * [target:NAME] sections (PostgreSQL servers to collect from),
 * [dest:NAME] sections (where the shipper delivers segments) and
 * [metric:NAME] sections (custom SQL metrics, collect/custom.h).  Keys are
 * kebab-case.  Every key, its type, default and documentation is declared
 * once in the option table (common/options.h), with the command-line flags
 * and environment variables; the parser, `pga help config`,
 * pga.conf.example and the man page are all produced from that table.
 *
 * pga_config_resolve() builds what a command runs with, in pgBackRest's
 * precedence: the built-in defaults, then the file, then the PGA_*
 * environment variables, then the command line.  Where each value came
 * from is kept (pga_config_given, pga_config_where).
 *
 * Unknown sections, unknown keys, duplicates and bad values are errors that
 * name file, line and key ("pga.conf:12: unknown key 'foo' in [global]").
 * A file that sets a secret (a password in a conninfo or url, a secret
 * key, session token, account key or SAS token) must pass the rule of
 * common/secretfile.h (0600, or 0640 for a service group), or it is refused.
 *
 * Ownership: pga_config_load() allocates a struct pga_config that the caller
 * releases with pga_config_free(); all strings inside belong to it and secret
 * values are wiped with explicit_bzero() on free.  Not thread-safe while
 * loading; read-only use from many threads afterwards is fine.
 */
#ifndef PGA_CONFIG_H
#define PGA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "common/options.h"

#define PGA_DEFAULT_CONFIG "/etc/pga/pga.conf"
#define PGA_NAME_MAX 64

enum pga_spool_full { PGA_FULL_BLOCK = 0, PGA_FULL_DROP_OLDEST = 1 };

/* A list option (--target a --target b, PGA_TARGET=a,b); strings owned. */
#define PGA_LIST_MAX 256
struct pga_list {
	char **v;
	size_t n;
};

struct pga_global {
	char *spool_path;
	char *collector;
	uint64_t spool_max;
	int spool_full;			/* enum pga_spool_full */
	uint64_t segment_max_size;
	int64_t segment_max_age;	/* us */
	long long compress_level;
	int log_level;			/* enum pga_log_level */
	int log_destination;		/* enum pga_log_dest */
	int log_timestamp;		/* enum pga_log_stamp */
	int log_facility;		/* index in the facility choices */
	char *log_ident;
	char *spool_retain;		/* "shipped" or a duration */
	char *sign_key_file;		/* Ed25519 key that signs sealed segments */
	struct pga_list encrypt_to;	/* X25519 public keys segments are encrypted to */
	struct pga_list decrypt_key_file;	/* X25519 private keys readers decrypt with */
	/* health */
	int64_t status_stale_after;
	long long status_spool_warn;	/* percent of spool-max */
	char *prometheus_file;
	/* collector */
	long long workers;		/* 0 = automatic */
	int64_t interval;
	long long query_stats_limit;
	long long texts_every;
	long long settings_every;
	int64_t connect_timeout;
	int64_t statement_timeout;
	int64_t lock_timeout;
	int64_t target_deadline;
	long long functions_limit;
	long long sessions_limit;
	long long bloat_every;
	long long bloat_exact_limit;
	uint64_t bloat_exact_max_size;
	bool os_stats;
	/* loader */
	char *central;			/* secret: may hold a password */
	char *central_schema;
	long long load_jobs;
	bool require_signature;
	char *load_from;		/* NULL: the spool */
	int64_t load_interval;
	int64_t load_deadline;		/* 0: none */
	int64_t load_retain;		/* 0: none */
	int64_t load_retry_max_delay;
	/* shipper */
	int64_t ship_interval;
	int64_t ship_deadline;
};

struct pga_target {
	char *name;
	char *conninfo;			/* secret */
	char *databases;		/* "*" or comma list; NULL = dbname only */
	char *csvlog;
	char *data_directory;
	bool os_stats;
	long long query_stats_limit;
	long long texts_every;
	int64_t target_deadline;
	bool enabled;
	int line;			/* line of the [target:NAME] header */
	int key_lines[PGA_OPTS_MAX];	/* line of each key set, by pga_opts index */
	unsigned char file;		/* the header's file, an index in cfg->files */
	unsigned char key_files[PGA_OPTS_MAX];	/* and each key's */
};

struct pga_dest {
	char *name;
	char *url;			/* secret when postgres:// with password */
	char *endpoint;
	char *region;
	bool path_style;
	char *access_key_id;
	char *secret_access_key;	/* secret */
	char *session_token;		/* secret */
	char *credentials_file;
	char *profile;
	char *storage_class;
	char *account_key;		/* secret */
	char *sas_token;		/* secret */
	char *key_file;
	char *token_url;
	char *ca_file;
	uint64_t rate_limit;		/* bytes/s, 0 = unlimited */
	long long max_parallel;
	int64_t timeout;
	long long retries;
	int64_t retry_max_delay;
	bool enabled;
	int create_only;		/* enum pga_create_only */
	int credential_source;		/* enum pga_cred_source */
	char *schema;			/* postgres destination: central schema */
	int line;			/* line of the [dest:NAME] header */
	int key_lines[PGA_OPTS_MAX];	/* line of each key set, by pga_opts index */
	unsigned char file;		/* the header's file, an index in cfg->files */
	unsigned char key_files[PGA_OPTS_MAX];	/* and each key's */
};

/* [metric:NAME]: a custom SQL metric (collect/custom.h runs it). */
enum pga_metric_scope { PGA_METRIC_CLUSTER = 0, PGA_METRIC_DATABASE = 1 };

struct pga_metric {
	char *name;			/* [a-z][a-z0-9_]{0,62} */
	char *sql;
	int scope;			/* enum pga_metric_scope */
	long long min_version, max_version;	/* server_version_num, 0: open */
	long long every;		/* cycles */
	int64_t statement_timeout;	/* us, 0: the global one */
	struct pga_list keys, counters, gauges;	/* column names */
	char *reset_column;
	bool enabled;
	int line;			/* line of the [metric:NAME] header */
	int key_lines[PGA_OPTS_MAX];	/* line of each key set, by pga_opts index */
	unsigned char file;		/* the header's file, an index in cfg->files */
	unsigned char key_files[PGA_OPTS_MAX];	/* and each key's */
};

/* [metric:NAME] sections, at most (each is a block per snapshot and database). */
#define PGA_METRICS_MAX 256

/* Files one configuration may read: pga.conf and what it includes. */
#define PGA_CONFIG_FILES_MAX 64
/* Includes within includes, as postgresql.conf's limit. */
#define PGA_CONFIG_DEPTH_MAX 10

enum pga_create_only { PGA_CREATE_AUTO = 0, PGA_CREATE_IF_NONE_MATCH = 1, PGA_CREATE_CHECK = 2 };
/* credential-source: the order of choices in common/options.c */
enum pga_cred_source {
	PGA_CRED_AUTO = 0, PGA_CRED_STATIC, PGA_CRED_WEB_IDENTITY, PGA_CRED_CONTAINER,
	PGA_CRED_INSTANCE, PGA_CRED_APP_SERVICE,
};

/* What the command line (and the environment) says that no file key does. */
struct pga_args {
	char *config;			/* -c: the file it was read from is path below */
	bool loop, json, dry_run, init, no_manifest, raw, status_central;
	char *prometheus;		/* pga status --prometheus FILE */
	bool example, man, man_options, verify, encryption;
	long long cycles, block, top, points, passes, index_workers;
	int64_t retain;
	bool verify_only, segment_by_segment;
	int order;			/* restore_order: newest-first, oldest-first */
	uint64_t prefetch, index_memory;
	struct pga_list target, report_collector, server;
	char *dest, *from, *since, *until, *only_collector, *resolve_fork, *keep;
	char *metric, *columns, *put_target, *database, *time, *output, *explain;
	char *public_key, *environment, *group, *description, *revoke_from;
};

/* Where a [global] key's or an option's value came from. */
enum pga_src { PGA_SRC_DEFAULT = 0, PGA_SRC_FILE, PGA_SRC_ENV, PGA_SRC_ARGV };

struct pga_config {
	char *path;			/* file it came from, NULL for defaults */
	struct pga_global global;
	struct pga_target *targets;
	size_t ntargets;
	struct pga_dest *dests;
	size_t ndests;
	struct pga_metric *metrics;	/* [metric:NAME], in the file's order */
	size_t nmetrics;
	struct pga_args args;
	/* by pga_opts index, for [global] keys and options: source, file line */
	unsigned char src[PGA_OPTS_MAX];
	int line[PGA_OPTS_MAX];
	unsigned char line_file[PGA_OPTS_MAX];	/* index in files */
	/* path, then each file it included (include, include-dir), in order */
	char *files[PGA_CONFIG_FILES_MAX];
	size_t nfiles;
};

/*
 * Load path (NULL: $PGA_CONFIG, else the default path): the file alone,
 * over the defaults.  A missing default file gives the built-in defaults; a
 * missing file that was asked for is an error.  On error *out is NULL and
 * err names file, line and key.
 */
int pga_config_load(const char *path, struct pga_config **out,
		    struct pga_err *err);
/*
 * The same from text in memory, named name in errors (tests, fuzzing); no
 * check of a file's mode.
 */
int pga_config_load_mem(const char *name, const void *buf, size_t len,
			struct pga_config **out, struct pga_err *err);

/* Everything a command runs with, and what a reload reads again. */
struct pga_config_src {
	const char *path;		/* -c FILE, or NULL: $PGA_CONFIG, the default */
	bool no_file;			/* commands that need no configuration */
	unsigned cmd;			/* PGA_CMD_*: whose options the environment sets */
	const struct pga_argv *argv;	/* the command line's options, or NULL */
};
/*
 * Defaults, the file (unless no_file), the environment, the command line.
 * A bad value in the environment or on the command line is PGA_EINVAL
 * naming the variable or the flag (a usage error); the file's errors are
 * pga_config_load()'s.
 */
int pga_config_resolve(const struct pga_config_src *src, struct pga_config **out,
		       struct pga_err *err);
/* Built-in defaults only (tests, commands run without a file). */
int pga_config_defaults(struct pga_config **out, struct pga_err *err);
void pga_config_free(struct pga_config *cfg);

/*
 * A [dest:NAME] section that is not in the file (a URL given on the command
 * line): defaults applied, name and url set.  Release with
 * pga_config_dest_release(), which wipes its secrets.
 */
int pga_config_dest_init(struct pga_dest *d, const char *name, const char *url,
			 struct pga_err *err);
void pga_config_dest_release(struct pga_dest *d);

/* Replace a string setting (command-line override); copies value. */
int pga_config_set_string(char **field, const char *value, struct pga_err *err);

/* A key_lines entry: the key came from PGA_TARGET_<NAME>_<KEY> or PGA_DEST_... */
#define PGA_LINE_ENV (-1)

/*
 * Where a [target:]/[dest:] key was set: "file:line", "environment variable
 * PGA_TARGET_X_KEY", or the section header's "file:line" when it was not.
 */
const char *pga_config_target_where(const struct pga_config *cfg, const struct pga_target *t,
				    const char *key, char *buf, size_t cap);
const char *pga_config_dest_where(const struct pga_config *cfg, const struct pga_dest *d,
				  const char *key, char *buf, size_t cap);
const char *pga_config_metric_where(const struct pga_config *cfg, const struct pga_metric *m,
				    const char *key, char *buf, size_t cap);

/*
 * "file:line" of a global key set in the file, "environment PGA_X",
 * "command line", or the file (or "defaults") when it kept its default.
 */
const char *pga_config_where(const struct pga_config *cfg, const char *key,
			     char *buf, size_t cap);
/* Whether an option or [global] key was set (file, environment, command line). */
bool pga_config_given(const struct pga_config *cfg, const char *name);

/*
 * Every key set in a [dest:NAME] section applies to destinations of kind
 * (ship/dest.c's name: "s3", "file", ...); PGA_ECONFIG naming the first
 * that does not.
 */
int pga_config_dest_check_kind(const struct pga_dest *d, const char *kind,
			       struct pga_err *err);

/* Whether value is one option o takes (type, bounds, choices). */
int pga_config_check_value(const struct pga_opt *o, const char *value,
			   struct pga_err *err);
/* The value of a [global] key or an option as text (on, 1048576, a,b). */
const char *pga_config_format(const struct pga_config *cfg, const struct pga_opt *o,
			      char *buf, size_t cap);
/* The same for the struct of o's scope at base (a pga_target, a pga_dest). */
const char *pga_config_format_in(const void *base, const struct pga_opt *o, char *buf,
				 size_t cap);

/* A name usable as collector id, target or destination name: [A-Za-z0-9._-]{1,64}. */
bool pga_name_valid(const char *name);

#endif
