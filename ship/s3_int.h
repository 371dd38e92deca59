/*
 * s3_int.h - the S3-style object store core shared by dest_s3.c and
 * dest_gcs.c (GCS's XML API is S3's protocol with other header names)
 *
 * A struct s3_dest is one upload slot: its own HTTP client (connection),
 * its own copy of the credentials (wiped on close).  Requests are signed
 * per attempt (SigV4 / GOOG4) with the time of that attempt, or carry an
 * OAuth bearer token when the flavour provides one (GCS service account).
 */
#ifndef PGA_S3_INT_H
#define PGA_S3_INT_H

#include <stdbool.h>

#include "common/config.h"
#include "ship/dest.h"
#include "ship/http.h"

struct s3_flavour {
	const char *kind;		/* "s3", "gcs" */
	const char *algorithm;		/* AWS4-HMAC-SHA256 / GOOG4-HMAC-SHA256 */
	const char *service;		/* "s3" / "storage" */
	const char *hp;			/* header prefix: "x-amz-" / "x-goog-" */
	const char *create_hdr;		/* create-only condition header name */
	const char *create_val;		/* and its value */
};

#define S3_BEARER_MAX 4096		/* an OAuth access token */

struct s3_creds {
	char id[256];
	char secret[256];
	char token[4096];		/* session token, may be empty */
};

struct s3_dest;
struct s3_seen_cache;
typedef int (*s3_bearer_fn)(struct s3_dest *d, char *buf, size_t cap,
			    struct pga_err *err);

struct s3_dest {
	struct dest base;
	const struct s3_flavour *fl;
	char what[PGA_NAME_MAX + 16];
	struct http_client *http;
	char bucket[256];
	char prefix[1024];		/* "" or ends with '/' */
	char origin[512];		/* scheme://host[:port] */
	char host[320];			/* Host header, exactly as signed */
	char base_path[512];		/* "" (virtual host) or "/bucket" */
	char region[64];
	char storage_class[64];
	struct s3_creds creds;
	bool check_first;		/* look before each PUT (create-only = check) */
	struct s3_seen_cache *seen;	/* shared listing snapshot, for check_first */
	s3_bearer_fn bearer;		/* NULL: sign with creds */
	void (*bearer_reset)(struct s3_dest *d);	/* after a 401 */
	void *bearer_ctx;
};

/* Resolve HMAC credentials: config, AWS_* environment, credentials file. */
int s3_resolve_creds(const struct pga_dest *cfg, struct s3_creds *c,
		     struct pga_err *err);
/* Bucket name rules shared by S3 and GCS (lowercase, digits, '.', '-', '_'). */
int s3_check_bucket(const char *bucket, struct pga_err *err);
/*
 * Fill endpoint, addressing and create-only mode.  default_origin is used
 * without an endpoint ("https://s3.REGION.amazonaws.com" style, with
 * {bucket} replaced for virtual hosts); path_style forces /bucket paths.
 */
int s3_setup(struct s3_dest *d, const struct pga_dest *cfg,
	     const struct s3_flavour *fl, const char *default_origin,
	     bool path_style, struct pga_err *err);
void s3_teardown(struct s3_dest *d);

int s3_put(struct dest *d, const struct dest_upload *up, struct pga_err *err);
int s3_head(struct dest *d, const char *name, struct dest_object *obj,
	    struct pga_err *err);
int s3_list(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
	    struct pga_err *err);
int s3_get(struct dest *d, const char *name,
	   int (*sink)(void *ctx, const void *buf, size_t len, struct pga_err *err),
	   void *ctx, struct pga_err *err);
int s3_check(struct dest *d, struct pga_err *err);
void s3_close(struct dest *d);

#endif
