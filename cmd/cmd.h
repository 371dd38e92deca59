/*
 * cmd.h - the command layer: one file per command, above the parts
 *
 * The parts (spool/, collect/, ship/, load/) each do one thing and export
 * it, with their reports (the spool summary, the target checks, the
 * shipping status, the central status), through their own headers; they
 * never include one another sideways (tests/t/1014-layering.t holds them
 * to it).  A command that needs several parts lives here, and only here
 * (and in main.c) are they combined: `pga status` shows the spool's,
 * the shipper's and the central database's reports, `pga check` tests the
 * targets and the destinations.  As git's builtin/ and pgBackRest's
 * src/command/ sit above their libraries.
 *
 * main.c parses every option from the table (common/options.h) and
 * resolves the configuration before a command runs; an entry point gets
 * its positional arguments only (argc may be 0), the options in
 * ctx->cfg (cfg->args for the command line's own), and returns an exit
 * status (PGA_EXIT_*, common/err.h); it never exits.
 */
#ifndef PGA_CMD_H
#define PGA_CMD_H

#include <stdio.h>

#include "common/cli.h"
#include "spool/spool.h"

int cmd_check(int argc, char **argv, struct pga_ctx *ctx);
int cmd_collect(int argc, char **argv, struct pga_ctx *ctx);
/* collectors add, list, revoke, remove: ctx->cmd says which */
int cmd_collectors(int argc, char **argv, struct pga_ctx *ctx);
int cmd_help(int argc, char **argv, struct pga_ctx *ctx);
int cmd_keygen(int argc, char **argv, struct pga_ctx *ctx);
int cmd_load(int argc, char **argv, struct pga_ctx *ctx);
int cmd_report(int argc, char **argv, struct pga_ctx *ctx);
int cmd_restore(int argc, char **argv, struct pga_ctx *ctx);
int cmd_ship(int argc, char **argv, struct pga_ctx *ctx);
/* spool put, ls, verify, cat, pack: ctx->cmd says which */
int cmd_spool(int argc, char **argv, struct pga_ctx *ctx);
int cmd_status(int argc, char **argv, struct pga_ctx *ctx);
int cmd_version(int argc, char **argv, struct pga_ctx *ctx);

/* A command's usage (`pga help CMD`, `pga CMD --help`), with what parts add to it. */
void cmd_usage(FILE *out, const struct pga_cmd *cmd);
/* `pga help spool`: the synopsis of every subcommand of group. */
void cmd_usage_group(FILE *out, const char *group);

/*
 * What the parts cannot do alone, set up once before any command runs:
 * the counters every part declares (so every counters file lists them
 * all), and the shipper as the reader of bucket URLs for spool/source.h.
 */
void cmd_setup(const struct pga_config *cfg);

/*
 * decrypt-key-file: load every key named (each 0600 or refused) and hand
 * them to the segment readers of this process (seg_set_decrypt_keys); the
 * commands that read segment data (load, restore, spool verify and cat)
 * call it before reading.  cmd_decrypt_keys_release() takes them back and
 * frees them (OpenSSL clears the key material).
 */
/*
 * A writer's drop-oldest asks the shipper where a segment already is
 * (ship_where, spool_where): set on o after spool_opts_from_config().
 * *cfgp is read at each drop, so a reload that replaces the configuration
 * is seen; the pointer must outlive the spool.
 */
void cmd_spool_where(struct spool_opts *o, const struct pga_config *const *cfgp);

int cmd_decrypt_keys(const struct pga_config *cfg, struct pga_err *err);
void cmd_decrypt_keys_release(void);

/* Every part's counters, in the order pga status and spool ls show them. */
#define CMD_COUNTER_SETS 3
extern const struct spool_counter_set *const cmd_counter_sets[CMD_COUNTER_SETS];

struct cmd_counters {
	struct spool_counters v[CMD_COUNTER_SETS];	/* by cmd_counter_sets */
};

int cmd_counters_read(struct spool *sp, struct cmd_counters *c, struct pga_err *err);

#endif
