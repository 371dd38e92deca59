/*
 * dest.h - one interface for every kind of destination
 *
 * A destination is chosen by the scheme of its url:
 *   s3://bucket/prefix        dest_s3.c    (AWS SigV4)
 *   gs://bucket/prefix        dest_gcs.c   (XML API, HMAC or service account)
 *   azure://account/container/prefix  dest_azure.c (Shared Key or SAS)
 *   file:///path              dest_dir.c   (*.part, fsync, rename)
 *   postgres://... / postgresql://...  dest_pg.c (the loader, exactly once)
 * Object names are exactly the spool's segment names under the prefix.
 *
 * Contract of every implementation:
 *   - put() creates the object only if it does not exist (If-None-Match: *
 *     or the store's equivalent) and returns 0 only once the store has
 *     durably confirmed it.  An existing object with the same content
 *     (size and SHA-256/MD5) is success; different content is
 *     PGA_ECONFLICT.  Retryable failures (network, 5xx, 408/429, timeouts)
 *     return PGA_ENET; permanent ones PGA_EREMOTE with the server's code
 *     and message in err.
 *   - head() tells whether an object exists, with its size and the
 *     SHA-256 we stored with it when the store keeps it.
 *   - list()/get() serve `pga restore` and `pga load --from URL`.
 *   - Secrets never appear in err messages or logs.
 * A struct dest is used by one thread at a time; the shipper makes one per
 * parallel upload slot.
 *
 * Every implementation's object starts with struct dest (below), so the
 * engine can attach what a destination's slots share: the token bucket of
 * its rate-limit and a cancel callback that abandons the request in flight
 * (SIGTERM past its grace period).  dest_open() does lookup, validation and
 * open in one call and fills those fields; dest_close() releases.
 */
#ifndef PGA_DEST_H
#define PGA_DEST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hash.h"
#include "spool/segment.h"

struct ratelimit;

struct dest {
	const struct dest_ops *ops;
	const struct pga_dest *cfg;	/* borrowed: outlives the dest */
	struct ratelimit *rl;		/* shared by the slots; NULL: no limit */
	bool (*cancel)(void *ctx);	/* true: abandon the request in flight */
	void *cancel_ctx;
};

struct dest_object {
	uint64_t size;
	bool have_sha256;
	uint8_t sha256[PGA_SHA256_LEN];
};

/* What to upload: a sealed segment file with its precomputed digests. */
struct dest_upload {
	const char *name;		/* relative segment name */
	const char *path;		/* file to read */
	uint64_t size;
	uint8_t sha256[PGA_SHA256_LEN];
	uint8_t md5[16];
};

typedef int (*dest_list_fn)(void *ctx, const char *name, uint64_t size,
			    struct pga_err *err);

struct dest_ops {
	const char *scheme;
	const char *kind;		/* "s3", "gcs", "azure", "file", "postgres" */
	/* kind-specific checks of the section, without I/O on the network */
	int (*validate)(const struct pga_dest *cfg, struct pga_err *err);
	int (*open)(struct dest **out, const struct pga_dest *cfg,
		    struct pga_err *err);
	int (*put)(struct dest *d, const struct dest_upload *up,
		   struct pga_err *err);
	/* 1 exists (obj filled), 0 absent */
	int (*head)(struct dest *d, const char *name, struct dest_object *obj,
		    struct pga_err *err);
	/* names under the prefix, in lexical order */
	int (*list)(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
		    struct pga_err *err);
	/* stream an object's bytes to a callback */
	int (*get)(struct dest *d, const char *name,
		   int (*sink)(void *ctx, const void *buf, size_t len,
			       struct pga_err *err),
		   void *ctx, struct pga_err *err);
	/* reachability and credentials, for pga check */
	int (*check)(struct dest *d, struct pga_err *err);
	void (*close)(struct dest *d);
};

/* The ops for a url's scheme; PGA_EINVAL naming the url if unknown. */
int dest_lookup(const char *url, const struct dest_ops **ops,
		struct pga_err *err);
/* Validate a [dest:NAME] section before anything is sent. */
int dest_validate(const struct pga_dest *cfg, struct pga_err *err);
/* dest_lookup + dest_validate + open; errors are prefixed with the name. */
int dest_open(struct dest **out, const struct pga_dest *cfg,
	      struct pga_err *err);
void dest_close(struct dest *d);
/* The request in flight should be abandoned (used by implementations). */
bool dest_cancelled(const struct dest *d);

/* ---- helpers for the implementations ---- */

/*
 * Split "scheme://first/rest" into first (bucket, account, ...) and rest;
 * rest gets a trailing '/' when not empty, so key = rest + name.
 */
int dest_url_split(const char *url, char *first, size_t fcap, char *rest,
		   size_t rcap, struct pga_err *err);
/* A credential or key file: regular, readable, and as common/secretfile.h rules. */
int dest_check_secret_file(const char *path, const char *what,
			   struct pga_err *err);
/* Prefix err's message with what and give it a new code; returns code. */
int dest_err_wrap(struct pga_err *err, int code, const char *what);
/* A segment name safe to append to a prefix or a directory. */
bool dest_name_safe(const char *name);

#endif
