/*
 * `pga help` and `pga version`: they need no configuration (a broken one
 * does not stop them).  Everything they print comes from the option and
 * command tables (common/options.h), and from the parts' own tables where
 * a command's help names them: the destination kinds (ship/dest.h), the
 * metric catalog (collect/catalog.h).
 */
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "cmd/cmd.h"
#include "collect/catalog.h"
#include "collect/custom.h"
#include "common/cli.h"
#include "common/options.h"
#include "ship/dest.h"

#ifndef PGA_VERSION
#define PGA_VERSION "0.0.0"
#endif

void
cmd_usage(FILE *out, const struct pga_cmd *cmd)
{
	pga_usage_print(out, cmd);
	if (cmd->id == PGA_CMD_SHIP) {
		fprintf(out, "\n");
		dest_print_kinds(out);
	}
}

/* `pga help spool`: every subcommand's synopsis, then what each does. */
void
cmd_usage_group(FILE *out, const char *group)
{
	size_t n = strlen(group);

	for (size_t i = 0; i < pga_ncmds; i++)
		if (strncmp(pga_cmds[i].name, group, n) == 0 && pga_cmds[i].name[n] == ' ')
			pga_usage_synopsis(out, &pga_cmds[i]);
	fprintf(out, "\n");
	for (size_t i = 0; i < pga_ncmds; i++)
		if (strncmp(pga_cmds[i].name, group, n) == 0 && pga_cmds[i].name[n] == ' ')
			fprintf(out, "  %-8s %s\n", pga_cmds[i].name + n + 1, pga_cmds[i].summary);
	fprintf(out, "\nRun 'pga help %s <subcommand>' for its options.\n", group);
}

static bool
is_group(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < pga_ncmds; i++)
		if (strncmp(pga_cmds[i].name, name, n) == 0 && pga_cmds[i].name[n] == ' ')
			return true;
	return false;
}

/* The catalog, then the configuration's [metric:NAME] sections, if it reads. */
static void
help_metrics(const struct pga_args *a)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};

	catalog_print_doc(stdout);
	if (pga_config_load(a->config, &cfg, &err) < 0)
		printf("\nCustom metrics: the configuration could not be read: %s\n", err.msg);
	else
		custom_print_doc(stdout, cfg);
	pga_config_free(cfg);
}

/* A topic that is not a command: config, environment, metrics. */
static int
help_topic(const char *topic, const struct pga_args *a)
{
	enum pga_doc_kind kind = a->example ? PGA_DOC_EXAMPLE : a->man ? PGA_DOC_SCDOC :
				 PGA_DOC_TEXT;

	if (strcmp(topic, "config") == 0)
		pga_config_print_doc(stdout, kind);
	else if (strcmp(topic, "environment") == 0)
		pga_env_print_doc(stdout, kind);
	else if (strcmp(topic, "metrics") == 0)
		help_metrics(a);
	else
		return -1;
	return 0;
}

int
cmd_help(int argc, char **argv, struct pga_ctx *ctx)
{
	const struct pga_args *a = &ctx->cfg->args;
	const struct pga_cmd *cmd;
	char name[64] = "";

	for (int i = 0; i < argc; i++) {
		strlcat(name, i ? " " : "", sizeof(name));
		strlcat(name, argv[i], sizeof(name));
	}
	if (argc == 0) {
		if (a->man || a->man_options)
			a->man ? pga_man_synopsis(stdout, NULL) : pga_man_options(stdout, NULL);
		else
			pga_usage_main(stdout);
		return PGA_EXIT_OK;
	}
	if (help_topic(name, a) == 0)
		return PGA_EXIT_OK;
	cmd = pga_cmd_find(name);
	if (cmd == NULL && is_group(name)) {
		cmd_usage_group(stdout, name);
		return PGA_EXIT_OK;
	}
	if (cmd == NULL)
		return pga_cli_usage(ctx->cmd, "no command or topic '%s'", name);
	if (a->man)
		pga_man_synopsis(stdout, cmd);
	else if (a->man_options)
		pga_man_options(stdout, cmd);
	else
		cmd_usage(stdout, cmd);
	return PGA_EXIT_OK;
}

int
cmd_version(int argc, char **argv, struct pga_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("pga %s\n", PGA_VERSION);
	return PGA_EXIT_OK;
}
