/* What the parts cannot do alone, set up once by main(); see cmd.h. */
#include "cmd/cmd.h"

#include <string.h>

#include "collect/collect.h"
#include "ship/ship.h"
#include "common/log.h"
#include "common/xkey.h"
#include "spool/segment.h"
#include "spool/spool.h"

static struct pga_xkey *decrypt_keys[PGA_LIST_MAX];
static size_t ndecrypt_keys;

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

static enum spool_where
where_shipped(void *arg, const struct spool *sp, const char *name, char *note, size_t cap)
{
	const struct pga_config *const *cfgp = arg;

	return ship_where(sp, *cfgp, name, note, cap);
}

void
cmd_spool_where(struct spool_opts *o, const struct pga_config *const *cfgp)
{
	o->where = where_shipped;
	o->where_arg = (void *)cfgp;
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

static void
keys_free(struct pga_xkey **k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pga_xkey_free(k[i]);
}

/* All or nothing: the keys in use stay until every new one has loaded. */
int
cmd_decrypt_keys(const struct pga_config *cfg, struct pga_err *err)
{
	const struct pga_list *l = &cfg->global.decrypt_key_file;
	static struct pga_xkey *fresh[PGA_LIST_MAX];
	size_t n = 0;

	for (size_t i = 0; i < l->n && i < PGA_LIST_MAX; i++) {
		char hex[17];
		int rc = pga_xkey_load(&fresh[n], l->v[i], err);

		if (rc < 0) {
			keys_free(fresh, n);
			return pga_err_prefix(err, "decrypt-key-file");
		}
		seg_keyid_short(pga_xkey_id(fresh[n]), hex);
		log_debug("decrypt-key-file '%s': key %s", l->v[i], hex);
		n++;
	}
	cmd_decrypt_keys_release();
	memcpy(decrypt_keys, fresh, n * sizeof(fresh[0]));
	ndecrypt_keys = n;
	seg_set_decrypt_keys((const struct pga_xkey *const *)decrypt_keys, ndecrypt_keys);
	return 0;
}

void
cmd_decrypt_keys_release(void)
{
	seg_set_decrypt_keys(NULL, 0);
	keys_free(decrypt_keys, ndecrypt_keys);
	ndecrypt_keys = 0;
}
