/* Configuration internals for the tests: what pga.conf, the environment and a command line resolve to. */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/options.h"
#include "tests/helper/helper.h"

/*
 * config-get FILE [CMD [OPTION...] --] [KEY...]: resolve FILE (- for no
 * file), the environment and the options of command CMD ("collect",
 * "spool put") as pga does, then print KEY=value for each [global] key and
 * option named (all of them without KEY), target.NAME.KEY= or
 * dest.NAME.KEY= with " @" and where it was set for each section key
 * named so, and dest.NAME.url= for every destination.  Errors: exit 1 (the file), 64 (environment, options).
 */
/* target.NAME.KEY, dest.NAME.KEY or metric.NAME.KEY: its value, then " @" and where it was set. */
static void
print_section_key(const struct pga_config *cfg, const char *spec)
{
	enum pga_opt_scope scope = !strncmp(spec, "target.", 7) ? PGA_SCOPE_TARGET :
				   !strncmp(spec, "metric.", 7) ? PGA_SCOPE_METRIC :
				   !strncmp(spec, "dest.", 5) ? PGA_SCOPE_DEST : PGA_SCOPE_ARGS;
	const char *name = spec + (scope == PGA_SCOPE_DEST ? 5 : 7), *dot = strrchr(spec, '.');
	char buf[4096], where[4200];

	if (scope == PGA_SCOPE_ARGS || dot == NULL || dot < name)
		return;
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];

		if (o->scope != scope || strcmp(o->name, dot + 1) != 0)
			continue;
		for (size_t t = 0; scope == PGA_SCOPE_TARGET && t < cfg->ntargets; t++)
			if (strlen(cfg->targets[t].name) == (size_t)(dot - name) &&
			    !strncmp(cfg->targets[t].name, name, dot - name))
				printf("%s=%s @%s\n", spec,
				       pga_config_format_in(&cfg->targets[t], o, buf, sizeof(buf)),
				       pga_config_target_where(cfg, &cfg->targets[t], o->name,
							       where, sizeof(where)));
		for (size_t d = 0; scope == PGA_SCOPE_DEST && d < cfg->ndests; d++)
			if (strlen(cfg->dests[d].name) == (size_t)(dot - name) &&
			    !strncmp(cfg->dests[d].name, name, dot - name))
				printf("%s=%s @%s\n", spec,
				       pga_config_format_in(&cfg->dests[d], o, buf, sizeof(buf)),
				       pga_config_dest_where(cfg, &cfg->dests[d], o->name,
							     where, sizeof(where)));
		for (size_t m = 0; scope == PGA_SCOPE_METRIC && m < cfg->nmetrics; m++)
			if (strlen(cfg->metrics[m].name) == (size_t)(dot - name) &&
			    !strncmp(cfg->metrics[m].name, name, dot - name))
				printf("%s=%s @%s\n", spec,
				       pga_config_format_in(&cfg->metrics[m], o, buf, sizeof(buf)),
				       pga_config_metric_where(cfg, &cfg->metrics[m], o->name,
							       where, sizeof(where)));
	}
}

int
helper_config_get(int argc, char **argv)
{
	static struct pga_argv av;
	struct pga_config_src src = {.argv = &av};
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	char buf[4096];
	int i = 2, first;

	if (argc < 2) {
		fprintf(stderr, "usage: config-get FILE [CMD [OPTION...] --] [KEY...]\n");
		return 64;
	}
	src.path = argv[1];
	src.no_file = strcmp(argv[1], "-") == 0;
	if (argc > 2 && pga_cmd_find(argv[2]) != NULL) {
		int end = 3;

		src.cmd = pga_cmd_find(argv[2])->id;
		while (end < argc && strcmp(argv[end], "--") != 0)
			end++;
		/* the parser wants the command's name first */
		if (pga_opts_parse(src.cmd, end - 2, argv + 2, &av, &first, &err) != 0) {
			fprintf(stderr, "pga-test-helper: %s\n", err.msg);
			return 64;
		}
		i = end + 1;
	}
	if (pga_config_resolve(&src, &cfg, &err) < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return err.code == PGA_EINVAL ? 64 : 1;
	}
	for (size_t k = 0; k < pga_nopts; k++) {
		const struct pga_opt *o = &pga_opts[k];
		bool want = i >= argc;

		for (int j = i; j < argc; j++)
			want |= strcmp(argv[j], o->name) == 0;
		if (want && o->scope <= PGA_SCOPE_GLOBAL)
			printf("%s=%s\n", o->name, pga_config_format(cfg, o, buf, sizeof(buf)));
	}
	for (int j = i; j < argc; j++)
		print_section_key(cfg, argv[j]);
	for (size_t d = 0; d < cfg->ndests; d++)
		printf("dest.%s.url=%s\n", cfg->dests[d].name, cfg->dests[d].url);
	pga_config_free(cfg);
	return 0;
}

/*
 * opt-table: the option table, one option a line, tab-separated: name,
 * scope (args, global, target, dest), type, long flag (- for none), short
 * flag (-), variable (-), the commands that take it and those that need it
 * (space-separated names, - for none), metavar (-), kinds (-).
 */
int
helper_opt_table(int argc, char **argv)
{
	static const char *const scopes[] = {"args", "global", "target", "dest", "metric"};
	static const char *const types[] = {"string", "size", "duration", "int", "bool",
					    "enum", "list"};

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];
		char flag[64], env[96], cmds[512] = "", req[512] = "";

		for (size_t c = 0; c < pga_ncmds; c++) {
			if (o->cmds & pga_cmds[c].id)
				snprintf(cmds + strlen(cmds), sizeof(cmds) - strlen(cmds), "%s%s",
					 *cmds ? " " : "", pga_cmds[c].name);
			if (o->required & pga_cmds[c].id)
				snprintf(req + strlen(req), sizeof(req) - strlen(req), "%s%s",
					 *req ? " " : "", pga_cmds[c].name);
		}
		if (o->cmds & PGA_CMD_GLOBAL)
			snprintf(cmds + strlen(cmds), sizeof(cmds) - strlen(cmds), "%spga",
				 *cmds ? " " : "");
		printf("%s\t%s\t%s\t%s\t%c\t%s\t%s\t%s\t%s\t%s\n", o->name, scopes[o->scope],
		       types[o->type], pga_opt_flag(o, flag, sizeof(flag)) ?: "-",
		       o->short_flag ? o->short_flag : '-', pga_opt_env(o, env, sizeof(env)) ?: "-",
		       *cmds ? cmds : "-", *req ? req : "-", o->metavar ? o->metavar : "-",
		       o->kinds ? o->kinds : "-");
	}
	return 0;
}
