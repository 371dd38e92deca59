/*
 * options.h - every option of pga and every command, declared once
 *
 * One table (options.c, pga_opts) declares each option: its name, which is
 * its key in pga.conf (unless it belongs to the command line only) and the
 * name of its environment variable (PGA_ and the name in capitals, '-' as
 * '_'); the commands whose command line takes it, with its long and short
 * flag; for a [dest:NAME] key, the kinds of destination that use it; its
 * type, bounds, default, whether it is a secret, and its documentation.
 * Beside it, the table of commands (pga_cmds): name, arguments, summary
 * and the text of its usage.
 *
 * Everything else is generated from the two tables: the reader of pga.conf
 * (config.c), the environment and command-line parsers (config.c and
 * pga_opts_parse below), each command's usage (`pga help CMD`), `pga help
 * config`, `pga help environment`, pga.conf.example and the man page's
 * synopses, option lists, keys and environment (scripts/man.sh fills
 * doc/pga.1.scd from `pga help ... --man`).  tests/t/1007-docs.t fails when
 * any of them disagrees with the table.
 *
 * Precedence, as pgBackRest's: the command line over the environment over
 * the file over the built-in default.  A [global] key's variable is read
 * by every command; a command-line option's only by the commands that take
 * it.  A secret never comes from the command line (argv is public): such
 * an option given there is refused, one that only may hold a password
 * (a conninfo) is refused when it does.
 *
 * To add an option: one row in pga_opts (and, for a key, its field in
 * config.h's structs); `make` regenerates nothing by hand but
 * pga.conf.example (`pga help config --example > pga.conf.example`), which
 * tests/t/1007-docs.t compares.
 */
#ifndef PGA_OPTIONS_H
#define PGA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

/* Commands, one bit each: what an option applies to. */
enum pga_cmd_bit {
	PGA_CMD_GLOBAL = 1u << 0,	/* pga's own options, before the command */
	PGA_CMD_CHECK = 1u << 1,
	PGA_CMD_COLLECT = 1u << 2,
	PGA_CMD_HELP = 1u << 3,
	PGA_CMD_LOAD = 1u << 4,
	PGA_CMD_RESTORE = 1u << 5,
	PGA_CMD_SHIP = 1u << 6,
	PGA_CMD_SPOOL_PUT = 1u << 7,
	PGA_CMD_SPOOL_LS = 1u << 8,
	PGA_CMD_SPOOL_VERIFY = 1u << 9,
	PGA_CMD_SPOOL_CAT = 1u << 10,
	PGA_CMD_SPOOL_PACK = 1u << 11,
	PGA_CMD_STATUS = 1u << 12,
	PGA_CMD_VERSION = 1u << 13,
	PGA_CMD_REPORT = 1u << 14,
	PGA_CMD_KEYGEN = 1u << 15,
	PGA_CMD_COLLECTORS_ADD = 1u << 16,
	PGA_CMD_COLLECTORS_LIST = 1u << 17,
	PGA_CMD_COLLECTORS_REVOKE = 1u << 18,
	PGA_CMD_COLLECTORS_REMOVE = 1u << 19,
};
#define PGA_CMD_COLLECTORS (PGA_CMD_COLLECTORS_ADD | PGA_CMD_COLLECTORS_LIST | \
			    PGA_CMD_COLLECTORS_REVOKE | PGA_CMD_COLLECTORS_REMOVE)
#define PGA_CMD_SPOOL (PGA_CMD_SPOOL_PUT | PGA_CMD_SPOOL_LS | PGA_CMD_SPOOL_VERIFY | \
		       PGA_CMD_SPOOL_CAT | PGA_CMD_SPOOL_PACK)

/* Where an option's value lives: the command line only, or a section. */
enum pga_opt_scope {
	PGA_SCOPE_ARGS,			/* struct pga_args: command line and environment */
	PGA_SCOPE_GLOBAL,		/* [global], struct pga_global */
	PGA_SCOPE_TARGET,		/* [target:NAME], struct pga_target */
	PGA_SCOPE_DEST,			/* [dest:NAME], struct pga_dest */
	PGA_SCOPE_METRIC,		/* [metric:NAME], struct pga_metric */
};

enum pga_opt_type {
	PGA_OPT_STRING,			/* char * */
	PGA_OPT_SIZE,			/* uint64_t bytes: 64K, 10M, 1G */
	PGA_OPT_DURATION,		/* int64_t us: 250ms, 60s, 5m, 1h, 7d */
	PGA_OPT_INT,			/* long long, min..max */
	PGA_OPT_BOOL,			/* bool: on/off; on the command line a switch */
	PGA_OPT_ENUM,			/* int, index into choices */
	PGA_OPT_LIST,			/* struct pga_list; repeated flag, or a,b,c */
};

enum pga_opt_secret {
	PGA_SECRET_NONE,
	PGA_SECRET_ALWAYS,		/* a key, a token */
	PGA_SECRET_PASSWORD,		/* a conninfo or url, when it carries a password */
};

struct pga_opt {
	const char *name;		/* the file key, and PGA_<NAME> */
	enum pga_opt_scope scope;
	enum pga_opt_type type;
	size_t off;			/* of the field in the scope's struct */
	const char *def;		/* built-in default as text; NULL: none */
	long long min, max;		/* PGA_OPT_INT */
	const char *const *choices;	/* PGA_OPT_ENUM, NULL-terminated */
	enum pga_opt_secret secret;
	const char *inherit;		/* [target:] key: the [global] key it overrides */
	const char *kinds;		/* [dest:] key: kinds that use it, "s3 gcs"; NULL: all */
	bool bare_ms;			/* PGA_OPT_DURATION: a bare number is milliseconds, as
					 * the PostgreSQL setting it mirrors (else seconds) */
	/* the command line */
	unsigned cmds;			/* commands that take it (PGA_CMD_*) */
	unsigned required;		/* commands that need it */
	const char *flag;		/* long flag, when it is not name */
	char short_flag;
	const char *metavar;		/* its value in usage (DIR, N); NULL: a switch */
	const char *usage;		/* one line for a command's usage */
	/* the configuration's documentation (keys); NULL: usage */
	const char *doc;
};

extern const struct pga_opt pga_opts[];
extern const size_t pga_nopts;
/* Room for per-row state (lines, sources) in config.h's structs. */
#define PGA_OPTS_MAX 160

/* A command, for its usage and the man page. */
struct pga_cmd_usage {
	const char *opt;		/* option name */
	const char *usage;		/* what it means to this command */
	const char *metavar;		/* its value's name here, or NULL: the row's */
};

struct pga_cmd {
	unsigned id;			/* PGA_CMD_* */
	const char *name;		/* "collect", "spool put" */
	const char *args;		/* positional arguments in the synopsis, or NULL */
	int nargs;			/* how many it takes: 0, 1, or -1 for any */
	const char *summary;		/* one line, for `pga help` */
	const char *const *about;	/* lines between synopsis and options */
	const char *const *after;	/* lines after the options (exit status) */
	const struct pga_cmd_usage *usages;	/* this command's wording, {NULL} ended */
};

extern const struct pga_cmd pga_cmds[];
extern const size_t pga_ncmds;

/* The command named name ("spool put"), or NULL. */
const struct pga_cmd *pga_cmd_find(const char *name);
/* The option named name, or NULL. */
const struct pga_opt *pga_opt_find(const char *name);
/* Index of o in pga_opts (per-row state is kept by it). */
size_t pga_opt_index(const struct pga_opt *o);
#define PGA_ENV_NAME_MAX 160
/* "PGA_SPOOL_PATH"; NULL for a [target:]/[dest:] key (see pga_section_env). */
const char *pga_opt_env(const struct pga_opt *o, char *buf, size_t cap);
/* "PGA_DEST_CENTRAL_2_URL" for key url of [dest:central-2] ("dest", "central-2"). */
const char *pga_section_env(const char *section, const char *name, const struct pga_opt *o,
			    char *buf, size_t cap);
/* "--spool", or NULL when the option has no flag. */
const char *pga_opt_flag(const struct pga_opt *o, char *buf, size_t cap);
/*
 * The one of n candidates a mistyped word most likely meant (at most two
 * edits away, or a start of it, and no other as close), or NULL: git's
 * "did you mean".
 */
const char *pga_suggest(const char *word, const char *const *cands, size_t n);
/* Whether a [dest:] key applies to destinations of kind ("s3", "file"). */
bool pga_opt_applies_to_kind(const struct pga_opt *o, const char *kind);

/* ---- the command line ---- */

#define PGA_ARGV_MAX 512

/* Options given on a command line, in order; values point into argv. */
struct pga_argv {
	size_t n;
	struct pga_argv_opt {
		const struct pga_opt *opt;
		const char *value;	/* "on" for a switch */
	} v[PGA_ARGV_MAX];
};

/*
 * Parse the options of command cmd in argv[0..argc) (argv[0] is the
 * command's name; PGA_CMD_GLOBAL stops at the first argument that is not
 * an option, the command).  Appends to out; *first gets the index of the
 * first argument that is not an option (the others are moved behind it).
 * Each value is checked as its option's type and bounds, and a secret on
 * the command line is refused.  Returns 0, 1 when -h/--help was given
 * (or -V/--version for PGA_CMD_GLOBAL: 2), or PGA_EINVAL with a one-line
 * usage error in err.
 */
int pga_opts_parse(unsigned cmd, int argc, char **argv, struct pga_argv *out,
		   int *first, struct pga_err *err);
/* Options that cmd needs and neither argv nor the environment gives: PGA_EINVAL. */
int pga_opts_check_required(const struct pga_cmd *cmd, const struct pga_argv *argv,
			    struct pga_err *err);
/* The value of opt in argv (the last one given), or NULL. */
const char *pga_argv_get(const struct pga_argv *argv, const char *name);

/* ---- documentation, all from the tables ---- */

/* `pga help CMD`: synopsis, about, options, after. */
void pga_usage_print(FILE *out, const struct pga_cmd *cmd);
/* The synopsis alone, "usage: ..." (usage errors print it after the message). */
void pga_usage_synopsis(FILE *out, const struct pga_cmd *cmd);
/* `pga help`: pga's own synopsis, its options and the commands. */
void pga_usage_main(FILE *out);

enum pga_doc_kind { PGA_DOC_TEXT, PGA_DOC_EXAMPLE, PGA_DOC_SCDOC };
/* `pga help config`: every key; pga.conf.example; the man page's keys. */
void pga_config_print_doc(FILE *out, enum pga_doc_kind kind);
/* `pga help environment`: every PGA_ variable and what it sets. */
void pga_env_print_doc(FILE *out, enum pga_doc_kind kind);
/* The man page: a command's synopsis line (NULL: pga's own), its options. */
void pga_man_synopsis(FILE *out, const struct pga_cmd *cmd);
void pga_man_options(FILE *out, const struct pga_cmd *cmd);

#endif
