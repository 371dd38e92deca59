/*
 * status.h - the parts of `pga status` that come from other modules
 *
 * status_extra() prints the destinations' delivery state and, when asked,
 * the central database's view, after the spool summary; it returns how
 * many things need an operator's attention (0 when all is well).
 */
#ifndef PGA_STATUS_H
#define PGA_STATUS_H

#include <stdbool.h>

#include "common/cli.h"
#include "common/jsonw.h"

struct spool;

struct status_args {
	const char *spool;
	const char *db;
	bool json;
	bool central;
};

int status_extra(struct pga_ctx *ctx, const struct status_args *a,
		 struct spool *sp, struct jsonw *jw);

#endif
