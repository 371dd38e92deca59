/*
 * dest_int.h - private to ship/: the ops of each destination kind
 *
 * dest.c maps url schemes to these; nothing outside ship/ uses them
 * directly (use dest_lookup() / dest_open()).
 */
#ifndef PGA_DEST_INT_H
#define PGA_DEST_INT_H

#include "ship/dest.h"

extern const struct dest_ops dest_file_ops;
extern const struct dest_ops dest_s3_ops;
extern const struct dest_ops dest_gcs_ops;
extern const struct dest_ops dest_azure_ops;
extern const struct dest_ops dest_pg_ops;

/* "dest 'name'" for messages and http_config.what. */
#define DEST_WHAT_MAX (PGA_NAME_MAX + 16)
void dest_what(const struct pga_dest *cfg, char *buf, size_t cap);

#endif
