/*
 * objstore.h - the object-store layer under the S3, GCS and Azure kinds
 *
 * The layer owns what every object store shares: where requests go (the
 * endpoint, virtual-host or path addressing), request headers in a capped
 * arena, sending through the slot's HTTP client, reading the answers
 * (status to PGA_ENET or PGA_EREMOTE with the server's code and message,
 * clock skew), and the operations of dest.h: put, head, get, list with
 * paging, check.  A kind (dest_s3.c, dest_gcs.c, dest_azure.c) supplies
 * only what differs, in a struct objstore_kind: header names as data, how
 * its listing reads (parameters, element names, continuation), and two
 * hooks: setup() reads the section, sign() authenticates one request.
 *
 * put(), the same for every kind:
 *   - one PUT with Content-MD5 (the store checks the body), the SHA-256 as
 *     user metadata (so a later HEAD can compare) and the kind's create-only
 *     condition (If-None-Match: *, x-goog-if-generation-match: 0);
 *   - for stores that ignore the condition (s3rver), create-only = check
 *     (and auto, for kinds with auto_check, when an endpoint is set) looks
 *     first, in a listing of the segment's day shared by the slots, at most
 *     a minute old: a listed name gets a HEAD and is compared, not written;
 *   - 412 and 409 answers are compared the same way: the same size and
 *     SHA-256 (or MD5) is success, anything else PGA_ECONFLICT, except a
 *     proper prefix of the segment, which is what some stores keep of an
 *     upload whose client died: never a valid segment (a segment ends with
 *     its footer), it is replaced;
 *   - after a timeout the next attempt either gets 412 or harmlessly
 *     rewrites the segment's own bytes.
 * Errors: 408, 429, 5xx and the stores' transient codes are PGA_ENET; a 401
 * is PGA_ENET too when the kind renews what it signs with (a new token),
 * and so is S3's ExpiredToken (400 or 403);
 * every other refusal is PGA_EREMOTE naming the server's code and message.
 * A HEAD answer has no body: when it is a refusal and names no error in a
 * header, a one-byte GET asks again for the code and message.
 *
 * Per destination, the slots share a struct objstore_shared (the dest's
 * dest_shared state): the listing snapshot of create-only = check, and the
 * credential of kinds that fetch one (a bearer token, or workload identity:
 * ship/cloud_cred.h).  A struct objstore is
 * one slot: its own HTTP client (keep-alive connection) and its own copy of
 * the credentials, wiped on close.
 *
 * Limits: OBJSTORE_MAX_HEADERS headers in OBJSTORE_HDR_ARENA bytes per
 * request, a listing page of OBJSTORE_LIST_MAX bytes, names as in dest.h.
 */
#ifndef PGA_OBJSTORE_H
#define PGA_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/dynbuf.h"
#include "ship/dest.h"
#include "ship/dest_int.h"
#include "ship/cloud_cred.h"
#include "ship/http.h"
#include "ship/sign.h"

#define OBJSTORE_MAX_HEADERS 16
#define OBJSTORE_HDR_ARENA 16384
#define OBJSTORE_LIST_MAX (16u << 20)
#define OBJSTORE_MARKER_MAX 4096

struct objstore;

/* How a kind's listing reads. */
struct objstore_list_syntax {
	const char *params;		/* fixed query parameters, or "" */
	const char *limit;		/* the page-size parameter */
	const char *item;		/* the element of one object */
	const char *name;		/* inside it: the name and the size */
	const char *size;
	/* the element holding the next page's marker; NULL: while IsTruncated
	 * says "true", the next page starts after the page's last name */
	const char *next;
	/* with delimiter=/: the element of one common prefix and, inside it,
	 * the prefix itself (S3, GCS: CommonPrefixes/Prefix; Azure:
	 * BlobPrefix/Name) */
	const char *dir_item;
	const char *dir_name;
};

/* Request headers: on the wire, to the signer, or both. */
enum { OBJSTORE_WIRE = 1, OBJSTORE_SIGNED = 2, OBJSTORE_BOTH = 3 };

struct objstore_hdrs {
	const char *lines[OBJSTORE_MAX_HEADERS];	/* "Name: value" */
	size_t n;
	struct sign_header sig[OBJSTORE_MAX_HEADERS];
	size_t nsig;
	bool full;			/* more than OBJSTORE_MAX_HEADERS */
	struct dynbuf buf;		/* over arena */
	char arena[OBJSTORE_HDR_ARENA];
};

/* Add "<prefix><name>: value" (prefix may be ""); an overflow is reported
 * when the request is sent. */
void objstore_hdr(struct objstore_hdrs *h, unsigned how, const char *prefix,
		  const char *name, const char *value);

/* One request, as the kind's sign() sees it. */
struct objstore_req {
	const char *method;
	const char *path;		/* as sent: percent-encoded */
	const char *query;		/* without '?', or NULL */
	const char *payload_sha256;	/* hex SHA-256 of the body */
	int64_t now_us;			/* sign with this time */
	struct objstore_hdrs *h;	/* host is there already */
	const char *auth_query;		/* sign() may set it: sent after the query, unsigned */
};

/* Where the requests go, as setup() leaves it. */
struct objstore_place {
	char endpoint[512];		/* used when the section sets none */
	bool virtual_host;		/* bucket.host (else /bucket first in the path) */
};

struct objstore_kind {
	const char *noun;		/* "object" or "blob", for messages */
	uint64_t max_object;		/* the largest single PUT */
	const char *max_text;		/* the same in words */
	size_t priv_size;		/* the kind's part of a slot: objstore_priv() */
	bool auto_check;		/* create-only = auto checks when an endpoint is set */
	const char *create_hdr, *create_val;	/* the create-only condition */
	const char *meta_prefix;	/* user metadata headers ("x-amz-meta-") */
	const char *class_hdr;		/* takes the section's storage-class */
	const char *put_hdr, *put_val;	/* one more header on every PUT, or NULL */
	bool sign_length;		/* the signature covers Content-Length */
	bool list_slash;		/* the listing's path ends with '/' */
	struct objstore_list_syntax list;
	/* the url into o->bucket and o->prefix, credentials into the
	 * private part, the default endpoint and addressing into pl */
	int (*setup)(struct objstore *o, const struct pga_dest *cfg,
		     struct objstore_place *pl, struct pga_err *err);
	/* add the date and authorization headers (rq->h), or set auth_query */
	int (*sign)(struct objstore *o, struct objstore_req *rq, struct pga_err *err);
	/* optional: a 401 came back; drop renewable credentials and return
	 * true when the request may be tried again with new ones */
	bool (*unauthorized)(struct objstore *o);
	/* optional: wipe the private part */
	void (*teardown)(struct objstore *o);
};

struct objstore {
	struct dest base;		/* first: the dest the ops receive */
	const struct objstore_kind *kind;
	char what[DEST_WHAT_MAX];	/* "dest 'name'" */
	struct http_client *http;
	char bucket[256];		/* bucket, or Azure's container */
	char prefix[1024];		/* "" or ends with '/' */
	char origin[512];		/* scheme://host[:port] */
	char host[320];			/* the Host header */
	char base_path[512];		/* the bucket's path: "" (virtual host) or ".../bucket" */
	char storage_class[64];
	bool check_first;		/* look before each PUT */
	max_align_t priv[];		/* kind->priv_size bytes */
};

static inline void *
objstore_priv(struct objstore *o)
{
	return o->priv;
}

/* What cloud_fetch() needs of a slot: its HTTP client, name and cancel. */
static inline struct cloud_ctx
objstore_cloud_ctx(struct objstore *o)
{
	return (struct cloud_ctx){o->http, o->what, o->base.cancel, o->base.cancel_ctx};
}

/* Every slot of a kind's dest_ops but validate and open (the kind's own). */
#define OBJSTORE_DEST_OPS(kind_name, store_kind, validate_fn, open_fn) {	\
	.kind = (kind_name), .store = (store_kind),				\
	.validate = (validate_fn), .open = (open_fn),				\
	.put = objstore_put, .head = objstore_head, .list = objstore_list,	\
	.list_dirs = objstore_list_dirs, .get = objstore_get, .check = objstore_check, .close = objstore_close,	\
	.share = objstore_share, .unshare = objstore_unshare,			\
}

/* The kind's open(): the slot for cfg, set up by kind. */
int objstore_open(struct dest **out, const struct pga_dest *cfg,
		  const struct objstore_kind *kind, struct pga_err *err);
/* Every required field and hook is there (checked when the kind registers). */
int objstore_kind_check(const struct objstore_kind *kind, const char *name,
			struct pga_err *err);

int objstore_put(struct dest *d, const struct dest_upload *up, struct pga_err *err);
int objstore_head(struct dest *d, const char *name, struct dest_object *obj,
		  struct pga_err *err);
int objstore_list(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
		  struct pga_err *err);
int objstore_list_dirs(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
		       struct pga_err *err);
int objstore_get(struct dest *d, const char *name, dest_sink_fn sink, void *ctx,
		 struct pga_err *err);
int objstore_check(struct dest *d, struct pga_err *err);
void objstore_close(struct dest *d);
int objstore_share(void **state, const struct pga_dest *cfg, struct pga_err *err);
void objstore_unshare(void *state);

/*
 * The destination's credential (a bearer token, or AWS keys with a session
 * token) into c: the one its slots share, or a new one from fetch (which
 * fills c and its lifetime_s) when there is none or it is due.  One place
 * decides when: a credential is renewed OBJSTORE_RENEW_S before it expires,
 * or after three quarters of a lifetime shorter than 4 * OBJSTORE_RENEW_S.
 * One slot fetches while the others wait for its result.  The caller wipes
 * c after use (explicit_bzero).
 */
#define OBJSTORE_RENEW_S 300
typedef int (*objstore_fetch_fn)(struct objstore *o, struct cloud_cred *c,
				 struct pga_err *err);
int objstore_token(struct objstore *o, objstore_fetch_fn fetch, struct cloud_cred *c,
		   struct pga_err *err);
/* Forget the shared token (it was refused): the next request fetches one. */
void objstore_token_drop(struct objstore *o);
/*
 * "Authorization: Bearer TOKEN" on rq from the shared credential (fetched
 * by fetch as objstore_token does); every copy of the token is wiped.
 */
int objstore_bearer(struct objstore *o, struct objstore_req *rq, objstore_fetch_fn fetch,
		    struct pga_err *err);

/* ---- reading the answers (objstore_reply.c: pure, thread-safe) ---- */

/* A non-2xx answer of op ("PUT", "HEAD", ...) on name as an error; see above. */
int objstore_http_error(struct pga_err *err, const char *what, const char *op,
			const char *name, const struct http_response *rs);

/* What a HEAD says of an object; compared with a segment before writing. */
struct objstore_seen {
	struct dest_object obj;
	bool have_md5;
	uint8_t md5[16];
};
/* Size, the SHA-256 we stored (meta_prefix + "sha256") and any MD5 the
 * store gives (x-goog-hash, Content-MD5, or a plain single-part ETag). */
void objstore_read_head(const struct http_response *rs, const char *meta_prefix,
			struct objstore_seen *seen);
/*
 * Is the existing object the segment?  Sizes must match, then the SHA-256,
 * or else the MD5.  0 when it is the same object; PGA_ECONFLICT when it
 * differs or cannot be verified.
 */
int objstore_compare(const char *what, const char *name, const struct objstore_seen *seen,
		     const struct dest_upload *up, struct pga_err *err);

/* Where a listing continues. */
struct objstore_page {
	char marker[OBJSTORE_MARKER_MAX];	/* "" when the listing is done */
	size_t items;				/* objects on the page, all names */
};
/*
 * One page of a listing: fn gets every segment name under prefix (without
 * it) that dest_name_safe() accepts, and its size; pg says where the next
 * page starts.  A page that is
 * malformed, or truncated without any object, is PGA_EREMOTE.
 */
int objstore_list_page_parse(const struct objstore_list_syntax *syn, const char *xml,
			     const char *prefix, struct objstore_page *pg,
			     dest_list_fn fn, void *ctx, const char *what,
			     struct pga_err *err);
/*
 * One page of a listing with delimiter=/: fn gets every common prefix
 * under prefix (relative to it, ending in '/', one path component of
 * safe characters; others are skipped) with size 0; objects on the page
 * are not reported.  pg as above (the marker is the later of the last
 * object and the last prefix).
 */
int objstore_list_dirs_page_parse(const struct objstore_list_syntax *syn, const char *xml,
				  const char *prefix, struct objstore_page *pg,
				  dest_list_fn fn, void *ctx, const char *what,
				  struct pga_err *err);

#endif
