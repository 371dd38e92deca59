/* `pga load`: segments into the central database (see load/load.h) */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "load/load.h"
#include "spool/source.h"

struct load_args {
	struct load_run_opts ro;
	const char *fork, *keep;	/* --resolve-fork, --keep */
	bool init;
};

/* --resolve-fork is a command of its own, with --keep. */
static int
check_fork_args(const struct load_args *a, const struct pga_config *cfg, struct pga_err *err)
{
	if ((a->fork == NULL) != (a->keep == NULL))
		return pga_fail(err, PGA_EINVAL, "--resolve-fork and --keep go together");
	if (a->fork != NULL && (a->ro.from || a->init || pga_config_given(cfg, "retain") ||
				a->ro.lo.dry_run))
		return pga_fail(err, PGA_EINVAL, "--resolve-fork is a command of its own");
	if (a->keep != NULL && (strlen(a->keep) < 8 || strlen(a->keep) > 64 ||
				strspn(a->keep, "0123456789abcdefABCDEF") != strlen(a->keep)))
		return pga_fail(err, PGA_EINVAL, "--keep wants 8 to 64 hex digits of a sha256, not '%s'",
				a->keep);
	return 0;
}

/* --since/--until/--retain and the configuration into the run options. */
static int
resolve_args(struct load_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	const struct pga_args *args = &ctx->cfg->args;
	struct load_opts *lo = &a->ro.lo;
	int rc;

	a->init = args->init;
	a->fork = args->resolve_fork;
	a->keep = args->keep;
	a->ro.from = args->from;
	a->ro.json = args->json;
	lo->collector = args->only_collector;
	lo->dry_run = args->dry_run;
	/* the source is opened deep in load_run() */
	if (args->no_manifest)
		seg_source_set_defaults(&(struct seg_source_opts){.no_manifest = true});
	rc = load_resolve_common(&a->ro, ctx->cfg, args->since, args->until, err);
	if (rc < 0)
		return rc;
	if (pga_config_given(ctx->cfg, "retain") && args->retain <= 0)
		return pga_fail(err, PGA_EINVAL, "--retain must be positive");
	a->ro.retain_us = args->retain;
	if (lo->collector && !pga_name_valid(lo->collector))
		return pga_fail(err, PGA_EINVAL, "invalid collector id '%s'", lo->collector);
	if (args->loop && (a->fork || a->init || lo->dry_run || args->since || args->until))
		return pga_fail(err, PGA_EINVAL, "--loop loads every snapshot, for good: not with"
				" --resolve-fork, --init, --dry-run, --since or --until");
	if (!args->loop && (pga_argv_get(&ctx->argv, "load-interval") || args->passes))
		return pga_fail(err, PGA_EINVAL, "--interval and --passes only go with --loop");
	return check_fork_args(a, ctx->cfg, err);
}

static int
init_only(struct load_args *a, struct pga_err *err)
{
	struct loader *l = NULL;
	int rc;

	a->ro.lo.init = true;
	rc = loader_open(&l, &a->ro.lo, err);
	loader_close(l);
	if (rc < 0)
		return pga_cli_error(err);
	printf("central schema '%s' is ready\n", a->ro.lo.schema ? a->ro.lo.schema : "pga");
	return PGA_EXIT_OK;
}

static int
retain_only(struct load_args *a, struct pga_err *err)
{
	struct loader *l = NULL;
	uint64_t dropped = 0, busy = 0;
	int rc = loader_open(&l, &a->ro.lo, err);

	if (rc == 0)
		rc = loader_retain(l, pga_now_us() - a->ro.retain_us, &dropped, &busy, err);
	loader_close(l);
	if (rc < 0)
		return pga_cli_error(err);
	printf("retention: %llu partitions dropped, %llu in use left for next time\n",
	       (unsigned long long)dropped, (unsigned long long)busy);
	return busy ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

/* COLLECTOR:SEQ, SEQ in decimal as pga status --central prints it. */
static int
parse_fork(const char *arg, char *collector, size_t cap, uint64_t *seq, struct pga_err *err)
{
	const char *colon = strrchr(arg, ':');
	char *end;

	if (colon == NULL || (size_t)(colon - arg) >= cap)
		return pga_fail(err, PGA_EINVAL, "--resolve-fork wants COLLECTOR:SEQ, not '%s'", arg);
	memcpy(collector, arg, (size_t)(colon - arg));
	collector[colon - arg] = '\0';
	errno = 0;
	*seq = strtoull(colon + 1, &end, 10);
	if (!pga_name_valid(collector) || colon[1] == '\0' || *end != '\0' || errno != 0 ||
	    *seq == 0)
		return pga_fail(err, PGA_EINVAL, "--resolve-fork wants COLLECTOR:SEQ, not '%s'", arg);
	return 0;
}

static int
resolve_fork(struct load_args *a, const struct pga_cmd *cmd, struct pga_err *err)
{
	struct loader *l = NULL;
	char collector[PGA_NAME_MAX + 1];
	uint64_t seq = 0;
	int rc = parse_fork(a->fork, collector, sizeof(collector), &seq, err);

	if (rc < 0)
		return pga_cli_usage(cmd, "%s", err->msg);
	rc = loader_open(&l, &a->ro.lo, err);
	if (rc == 0)
		rc = loader_resolve_fork(l, collector, seq, a->keep, stdout, err);
	loader_close(l);
	if (rc < 0)
		return pga_cli_error(err);
	return rc > 0 ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

static int
loop(struct load_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	struct load_loop_opts o = {.ro = a->ro, .passes = ctx->cfg->args.passes, .ctx = ctx,
				   .on_reload = cmd_decrypt_keys};

	if (load_loop_configure(&o, ctx->cfg, err) < 0)
		return pga_cli_error(err);
	pga_cli_catch_signals();
	log_info("loading from '%s' every %.3f s%s", o.ro.from, (double)o.interval_us / 1e6,
		 o.ro.retain_us > 0 ? ", with central retention" : "");
	return load_loop(&o, stdout);
}

static int
load_main(struct pga_ctx *ctx)
{
	struct load_args a;
	struct pga_err err = {0};
	struct stat st;

	memset(&a, 0, sizeof(a));
	if (resolve_args(&a, ctx, &err) < 0)
		return err.code == PGA_EINVAL ? pga_cli_usage(ctx->cmd, "%s", err.msg)
					      : pga_cli_error(&err);
	if (cmd_decrypt_keys(ctx->cfg, &err) < 0)
		return pga_cli_error(&err);
	if (a.fork != NULL)
		return resolve_fork(&a, ctx->cmd, &err);
	if (a.init && a.ro.from == NULL)
		return init_only(&a, &err);
	if (ctx->cfg->args.loop)
		return loop(&a, ctx, &err);
	a.ro.lo.init = a.init;
	if (ctx->cfg->global.load_deadline > 0)
		a.ro.deadline_us = pga_mono_us() + ctx->cfg->global.load_deadline;
	if (a.ro.from == NULL)
		a.ro.from = ctx->cfg->global.load_from;
	if (a.ro.from == NULL) {
		a.ro.from = ctx->cfg->global.spool_path;
		if (a.ro.retain_us > 0 && stat(a.ro.from, &st) != 0)
			return retain_only(&a, &err);
	}
	a.ro.progress = !a.ro.json && isatty(STDERR_FILENO);
	pga_cli_catch_signals();
	return load_run(&a.ro, stdout, NULL);
}

int
cmd_load(int argc, char **argv, struct pga_ctx *ctx)
{
	int rc;

	(void)argc;
	(void)argv;
	rc = load_main(ctx);
	cmd_decrypt_keys_release();	/* OpenSSL clears the key material it frees */
	return rc;
}
