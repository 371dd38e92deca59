/* What the parts cannot do alone, set up once by main(); see cmd.h. */
#include "cmd/cmd.h"

#include "collect/collect.h"
#include "ship/ship.h"
#include "spool/spool.h"

const struct spool_counter_set *const cmd_counter_sets[CMD_COUNTER_SETS] = {
	&spool_counters_own, &collect_counters, &ship_counters,
};

void
cmd_setup(const struct pga_config *cfg)
{
	for (size_t i = 0; i < CMD_COUNTER_SETS; i++)
		spool_counters_declare(cmd_counter_sets[i]);
	ship_register_url_source(cfg);
}

int
cmd_counters_read(struct spool *sp, struct cmd_counters *c, struct pga_err *err)
{
	for (size_t s = 0; s < CMD_COUNTER_SETS; s++) {
		int rc = spool_counters_read(sp, cmd_counter_sets[s], &c->v[s], err);

		if (rc < 0)
			return rc;
	}
	return 0;
}
