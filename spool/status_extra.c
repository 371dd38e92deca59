/* Destinations and central parts of `pga status`. */
#include "spool/status.h"

#include <stdio.h>

#include "common/log.h"

int
status_extra(struct pga_ctx *ctx, const struct status_args *a, struct spool *sp,
	     struct jsonw *jw)
{
	(void)ctx;
	(void)sp;
	(void)jw;
	if (a->central)
		log_warn("central status is not built into this pga yet");
	return 0;
}
