/* placeholder until the status command lands */
#include "common/cli.h"
#include "common/log.h"

int
cmd_status(int argc, char **argv, struct pga_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	log_error("'pga status' is not implemented yet");
	return PGA_EXIT_FAIL;
}
