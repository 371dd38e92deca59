/*
 * pga-test-helper - exposes internals to the integration tests
 *
 * usage: pga-test-helper <command> [args]; each area registers its commands
 * in its own helper_<area>.c and in the table below.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "tests/helper/helper.h"

static const struct helper_cmd commands[] = {
	HELPER_SPOOL_COMMANDS
	HELPER_COLLECT_COMMANDS
	HELPER_SIGN_COMMANDS
	HELPER_SHIP_COMMANDS
	HELPER_LOAD_COMMANDS
	HELPER_TORTURE_COMMANDS
	HELPER_RESTORE_COMMANDS
	HELPER_CONFIG_COMMANDS
	HELPER_REPORT_COMMANDS
	{NULL, NULL, NULL},
};

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pga-test-helper <command> [args]\ncommands:\n");
		for (const struct helper_cmd *c = commands; c->name; c++)
			fprintf(stderr, "  %-18s %s\n", c->name, c->usage);
		return 64;
	}
	/* counters files it writes list every part's counters, as pga's do */
	for (size_t i = 0; i < CMD_COUNTER_SETS; i++)
		spool_counters_declare(cmd_counter_sets[i]);
	for (const struct helper_cmd *c = commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "pga-test-helper: unknown command '%s'\n", argv[1]);
	return 64;
}
