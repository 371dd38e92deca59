/*
 * libFuzzer target: the configuration reader (common/inifile.c) and the
 * key table behind it (common/config.c) on arbitrary bytes.  Whatever the
 * input, it parses or fails with an error that names the input and a line,
 * and never reads or writes out of bounds (ASan, UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	int rc = pga_config_load_mem("fuzz.conf", data, size, &cfg, &err);

	if (rc == 0) {
		char where[128];

		if (cfg == NULL)
			abort();
		/* what the commands read next must be there */
		for (size_t i = 0; i < cfg->ntargets; i++)
			if (cfg->targets[i].name == NULL || cfg->targets[i].conninfo == NULL)
				abort();
		for (size_t i = 0; i < cfg->ndests; i++)
			if (cfg->dests[i].name == NULL || cfg->dests[i].url == NULL)
				abort();
		for (size_t i = 0; i < cfg->nmetrics; i++)
			if (cfg->metrics[i].name == NULL || cfg->metrics[i].sql == NULL ||
			    cfg->metrics[i].keys.n > PGA_LIST_MAX)
				abort();
		pga_config_where(cfg, "spool-max", where, sizeof(where));
		pga_config_free(cfg);
	} else if (cfg != NULL || err.msg[0] == '\0' ||
		   (rc != PGA_ENOMEM && strncmp(err.msg, "fuzz.conf:", 10) != 0)) {
		abort();	/* every refusal says where */
	}
	return 0;
}
