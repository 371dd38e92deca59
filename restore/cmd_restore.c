/* placeholder until the restore command lands */
#include "common/cli.h"
#include "common/log.h"

int
cmd_restore(int argc, char **argv, struct pga_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	log_error("'pga restore' is not implemented yet");
	return PGA_EXIT_FAIL;
}
