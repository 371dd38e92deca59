/* placeholder until the check command lands */
#include "common/cli.h"
#include "common/log.h"

int
cmd_check(int argc, char **argv, struct pga_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	log_error("'pga check' is not implemented yet");
	return PGA_EXIT_FAIL;
}
