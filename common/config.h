/*
 * config.h - the configuration file and its single table of keys
 *
 * pga.conf is an INI file (read by common/inifile.h, which states the
 * syntax and its limits): a [global] section, any number of
 * [target:NAME] sections (PostgreSQL servers to collect from) and
 * [dest:NAME] sections (where the shipper delivers segments).  Keys are
 * kebab-case.  Every key, its type, default and documentation is declared
 * once in config.c (pga_config_keys); the parser, `pga help config`,
 * pga.conf.example and the man page are all produced from that table.
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

#define PGA_DEFAULT_CONFIG "/etc/pga/pga.conf"
#define PGA_NAME_MAX 64

enum pga_spool_full { PGA_FULL_BLOCK = 0, PGA_FULL_DROP_OLDEST = 1 };

struct pga_global {
	char *spool_path;
	char *collector;
	uint64_t spool_max;
	int spool_full;			/* enum pga_spool_full */
	uint64_t segment_max_size;
	int64_t segment_max_age;	/* us */
	long long compress_level;
	int log_level;			/* enum pga_log_level */
	char *spool_retain;		/* "shipped" or a duration */
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
	bool os_stats;
	/* loader */
	char *central;			/* secret: may hold a password */
	char *central_schema;
	long long load_jobs;
	char *load_from;		/* NULL: the spool */
	int64_t load_interval;
	int64_t load_deadline;		/* 0: none */
	char *load_retain;		/* a duration, or NULL */
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
	int key_lines[16];		/* line of each key set, by table order */
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
	char *schema;			/* postgres destination: central schema */
	int line;
};

enum pga_create_only { PGA_CREATE_AUTO = 0, PGA_CREATE_IF_NONE_MATCH = 1, PGA_CREATE_CHECK = 2 };

struct pga_config {
	char *path;			/* file it came from, NULL for defaults */
	struct pga_global global;
	struct pga_target *targets;
	size_t ntargets;
	struct pga_dest *dests;
	size_t ndests;
	/* file:line of each global key that was set, for later validation */
	int global_lines[64];
};

/*
 * Load path (NULL: $PGA_CONFIG, else the default path).  A missing default
 * file gives the built-in defaults; a missing file that was asked for is an
 * error.  On error *out is NULL and err names file, line and key.
 */
int pga_config_load(const char *path, struct pga_config **out,
		    struct pga_err *err);
/*
 * The same from text in memory, named name in errors (tests, fuzzing); no
 * check of a file's mode.
 */
int pga_config_load_mem(const char *name, const void *buf, size_t len,
			struct pga_config **out, struct pga_err *err);
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

/* Line of a target key in the file, or of the section header if it was not set. */
int pga_config_target_line(const struct pga_target *t, const char *key);

/* "file:line" of a global key, or "command line" if it was not in a file. */
const char *pga_config_where(const struct pga_config *cfg, const char *key,
			     char *buf, size_t cap);

/* A name usable as collector id, target or destination name: [A-Za-z0-9._-]{1,64}. */
bool pga_name_valid(const char *name);

/* Documentation output, all from the key table. */
enum pga_config_doc { PGA_DOC_TEXT, PGA_DOC_EXAMPLE, PGA_DOC_SCDOC };
void pga_config_print_doc(FILE *out, enum pga_config_doc kind);

#endif
