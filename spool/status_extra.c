/* Destinations and central parts of `pga status`. */
#include "spool/status.h"

#include <stdint.h>
#include <stdio.h>

#include "common/log.h"
#include "common/pgutil.h"
#include "load/load.h"
#include "ship/ship.h"

static int
destinations(struct pga_ctx *ctx, const struct status_args *a, struct jsonw *jw)
{
	struct pga_err err = {0};
	int rc;

	if (ctx->cfg->ndests == 0)
		return 0;
	if (jw != NULL)
		jsonw_key(jw, "destinations");
	else
		printf("\ndestinations\n");
	rc = ship_status(ctx, a->spool, jw, stdout, &err);
	if (rc < 0) {
		log_error("%s", err.msg);
		if (jw != NULL)
			jsonw_null(jw);
		return 1;
	}
	return rc;	/* destinations that need attention */
}

static int
central(struct pga_ctx *ctx, const struct status_args *a, struct jsonw *jw)
{
	struct load_opts o = {.conninfo = a->db, .schema = ctx->cfg->global.central_schema,
			      .since = INT64_MIN, .until = INT64_MAX};
	struct pga_err err = {0};
	int rc;

	if (a->db == NULL) {
		log_error("--central needs --db CONNINFO or [global] central");
		return 1;
	}
	if (a->db != ctx->cfg->global.central && pga_conninfo_no_password(a->db, "--db", &err) < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	if (jw == NULL)
		printf("\n");
	fflush(stdout);
	rc = jw != NULL ? load_status_central_jsonw(&o, jw, &err)
			: load_status_central(&o, false, stdout, &err);
	if (rc < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	return rc;
}

int
status_extra(struct pga_ctx *ctx, const struct status_args *a, struct spool *sp,
	     struct jsonw *jw)
{
	int attention = destinations(ctx, a, jw);

	(void)sp;
	if (a->central)
		attention += central(ctx, a, jw);
	return attention;
}
