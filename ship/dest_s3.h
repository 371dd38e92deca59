/*
 * dest_s3.h - what dest_gcs.c borrows from the S3 kind: GCS's XML API is
 * S3's protocol with other names, so HMAC credentials, bucket rules and
 * SigV4 signing are the same code
 *
 * Both kinds' private part (objstore_priv()) starts with a struct
 * s3_signing, which s3_sign() reads.
 */
#ifndef PGA_DEST_S3_H
#define PGA_DEST_S3_H

#include "common/config.h"
#include "ship/cloud_cred.h"
#include "ship/objstore.h"

/* The names that differ between AWS SigV4 and GCS's GOOG4 twin. */
struct s3_flavour {
	const char *algorithm;		/* AWS4-HMAC-SHA256 / GOOG4-HMAC-SHA256 */
	const char *service;		/* "s3" / "storage" */
	const char *hp;			/* header prefix: "x-amz-" / "x-goog-" */
};

struct s3_creds {
	char id[256];
	char secret[256];
	char token[4096];		/* session token, may be empty */
};

struct s3_signing {
	const struct s3_flavour *fl;
	char region[64];
	enum cloud_source src;		/* CLOUD_STATIC: creds; else fetched (cloud_cred.h) */
	struct s3_creds creds;
};

/* What S3 and GCS's XML API share in their struct objstore_kind: single
 * PUTs up to 5 GiB, ListObjects v1, and a look before each PUT with
 * create-only = auto when an endpoint (a clone, an emulator) is set. */
#define S3_PROTOCOL							\
	.noun = "object", .max_object = 5ull << 30, .max_text = "5 GiB",	\
	.auto_check = true, .list_slash = true,				\
	.list = {.params = "", .limit = "max-keys", .item = "Contents",	\
		 .name = "Key", .size = "Size",				\
		 .dir_item = "CommonPrefixes", .dir_name = "Prefix"}

/* What the static chain of kind "s3" or "gcs" holds (keys in the section
 * or AWS_* variables; a credentials file to read), for cloud_pick(). */
void s3_static_present(const struct pga_dest *cfg, struct cloud_static *st);
/* HMAC credentials: the section, else AWS_* variables, else the credentials
 * file (credentials-file, AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
 * mode 0600) and its profile. */
int s3_resolve_creds(const struct pga_dest *cfg, struct s3_creds *c, struct pga_err *err);
/* The same, only to check that they are there (validate()). */
int s3_check_creds(const struct pga_dest *cfg, struct pga_err *err);
/* scheme://bucket/prefix with bucket rules shared by S3 and GCS (3 to 222
 * of a-z, 0-9, '.', '-', '_'). */
int s3_check_url(const char *url, struct pga_err *err);
/* The source kind's ("s3", "gcs") section uses: cloud_pick() over the
 * static chain (gs:// counts key-file as a static key). */
int s3_pick(const struct pga_dest *cfg, const char *kind, enum cloud_source *src,
	    struct pga_err *err);
/* The objstore unauthorized(): a fetched credential is dropped and renewed. */
bool s3_unauthorized(struct objstore *o);
/* The objstore sign() of HMAC keys: date, payload hash, session token and
 * the Authorization of the flavour; with a fetched source (s->src), the
 * destination's cached credential (objstore_token()). */
int s3_sign(struct objstore *o, struct objstore_req *rq, struct pga_err *err);

#endif
