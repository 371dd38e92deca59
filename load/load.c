/* load.c - the central loader (see load.h); being written, stubs for now */
#include "load/load.h"

int
loader_open(struct loader **out, const struct load_opts *o, struct pga_err *err)
{
	(void)o;
	*out = NULL;
	return pga_fail(err, PGA_EINTERNAL, "loader not implemented yet");
}

int
loader_init_schema(struct loader *l, struct pga_err *err)
{
	(void)l;
	return pga_fail(err, PGA_EINTERNAL, "loader not implemented yet");
}

int
loader_load_segment(struct loader *l, const char *name, seg_read_fn fn,
		    void *ctx, enum load_result *res, struct load_seg_stats *st,
		    struct pga_err *err)
{
	(void)l; (void)name; (void)fn; (void)ctx; (void)res; (void)st;
	return pga_fail(err, PGA_EINTERNAL, "loader not implemented yet");
}

int
loader_lookup(struct loader *l, const char *collector, uint64_t seq,
	      uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	(void)l; (void)collector; (void)seq; (void)sha;
	return pga_fail(err, PGA_EINTERNAL, "loader not implemented yet");
}

void
loader_close(struct loader *l)
{
	(void)l;
}
