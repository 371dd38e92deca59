/*
 * dest.h - one interface for every kind of destination
 *
 * A destination is chosen by the scheme of its url, in one table (dest.c);
 * `pga ship --help` and the messages about urls list the kinds from it:
 *   s3://bucket/prefix        dest_s3.c    (AWS SigV4)
 *   gs://bucket/prefix        dest_gcs.c   (XML API, HMAC or service account)
 *   azure://account/container/prefix  dest_azure.c (Shared Key or SAS)
 *   file:///path              dest_file.c  (*.part, fsync, rename)
 *   postgres://... / postgresql://...  dest_pg.c (the loader, exactly once)
 * The three object stores share their HTTP mechanics in objstore.c
 * (objstore.h); each of their files holds only how the kind signs and lists.
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
 *   - list()/get() serve `pga restore` and `pga load --from URL`;
 *     list_dirs() (optional) lets pga restore walk collectors and days.
 *   - Secrets never appear in err messages or logs.
 * A struct dest is used by one thread at a time; the shipper makes one per
 * parallel upload slot.
 *
 * Every implementation's object starts with struct dest (below), so the
 * engine can attach what a destination's slots share: the token bucket of
 * its rate-limit, a cancel callback that abandons the request in flight
 * (SIGTERM past its grace period), and the kind's shared state.  The
 * engine makes one struct dest_shared per destination (dest_shared_new)
 * and opens every slot with it (dest_open_shared); a dest opened alone
 * (dest_open) gets its own.  dest_open*() do lookup, validation and open in
 * one call and fill the base; dest_close() releases.
 *
 * How to add a destination kind:
 *   1. Write ship/dest_KIND.c with a `const struct dest_ops dest_KIND_ops`
 *      (declare it in dest_int.h).  Required slots: kind, open, put, head,
 *      list, get, check, close; validate is optional, share and unshare go
 *      together.  Every slot is checked when the registry is first used:
 *      an incomplete kind fails every lookup with PGA_EINTERNAL naming the
 *      slot, and tests/unit/test_ship.c checks the whole table.
 *   2. An object store over HTTP needs no more than a struct objstore_kind
 *      (objstore.h): its header names, its listing's syntax, setup() and
 *      sign(); its dest_ops are OBJSTORE_DEST_OPS(...) with its own
 *      validate() and a one-line open() calling objstore_open().
 *   3. Add a row to the scheme table in dest.c: scheme, ops, the url's
 *      form and one line for help.  Messages and help follow.
 *   4. Keys of the [dest:NAME] section go in the option table
 *      (common/options.c) with the kinds that use them (.kinds: a key set
 *      for another kind is refused by dest_validate); the url key's text
 *      there names the new scheme (unit tests check that it names every
 *      scheme, and that every kind a key names is registered).
 *   5. Tests: an integration test against a real server (tests/t/4NNN),
 *      the fault proxy (4601) for its errors, and unit tests of its signer.
 */
#ifndef PGA_DEST_H
#define PGA_DEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hash.h"
#include "spool/segment.h"

struct ratelimit;
struct objstore_kind;

/* What the slots of one destination share; see dest_shared_new(). */
struct dest_shared {
	const struct dest_ops *ops;
	void *state;			/* the kind's (ops->share), or NULL */
};

struct dest {
	const struct dest_ops *ops;
	const struct pga_dest *cfg;	/* borrowed: outlives the dest */
	struct dest_shared *shared;	/* never NULL once open */
	bool own_shared;		/* opened alone: freed on close */
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
typedef int (*dest_sink_fn)(void *ctx, const void *buf, size_t len,
			    struct pga_err *err);

struct dest_ops {
	const char *kind;		/* "s3", "gcs", "azure", "file", "postgres" */
	const struct objstore_kind *store;	/* object stores: the layer's part */
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
	/* optional: the "directories" directly under prefix (relative to it,
	 * each ending in '/', size 0), any order: how pga restore finds the
	 * collectors and their days without listing every object */
	int (*list_dirs)(struct dest *d, const char *prefix, dest_list_fn fn, void *ctx,
			 struct pga_err *err);
	/* stream an object's bytes to a callback */
	int (*get)(struct dest *d, const char *name, dest_sink_fn sink, void *ctx,
		   struct pga_err *err);
	/* reachability and credentials, for pga check */
	int (*check)(struct dest *d, struct pga_err *err);
	void (*close)(struct dest *d);
	/* optional, together: the state the slots of one destination share */
	int (*share)(void **state, const struct pga_dest *cfg, struct pga_err *err);
	void (*unshare)(void *state);
};

/* The ops for a url's scheme; PGA_EINVAL naming the url if unknown,
 * PGA_EINTERNAL if a registered kind is incomplete (a bug). */
int dest_lookup(const char *url, const struct dest_ops **ops,
		struct pga_err *err);
/* Every required slot of ops is filled; PGA_EINTERNAL naming one that is not. */
int dest_ops_check(const struct dest_ops *ops, struct pga_err *err);
/* dest_ops_check() over every registered kind (done once, by dest_lookup). */
int dest_registry_check(struct pga_err *err);
/* "kind  url form  what it is" for each kind, for help. */
void dest_print_kinds(FILE *out);
/* Validate a [dest:NAME] section before anything is sent. */
int dest_validate(const struct pga_dest *cfg, struct pga_err *err);
/* The state the slots of the destination cfg share; free after its dests. */
int dest_shared_new(struct dest_shared **out, const struct pga_dest *cfg,
		    struct pga_err *err);
void dest_shared_free(struct dest_shared *sh);
/* lookup + validate + open, with sh from dest_shared_new() for the same cfg
 * (NULL: the dest gets its own); errors are prefixed with the name. */
int dest_open_shared(struct dest **out, const struct pga_dest *cfg,
		     struct dest_shared *sh, struct pga_err *err);
int dest_open(struct dest **out, const struct pga_dest *cfg,
	      struct pga_err *err);
void dest_close(struct dest *d);
/* The request in flight should be abandoned (used by implementations). */
bool dest_cancelled(const struct dest *d);

/* A failure worth another attempt: the network, a 5xx, 408/429, a timeout. */
bool dest_retryable(int code);
/*
 * The wait before attempt + 1, full jitter: uniform in [0, min(cap,
 * 200 ms * 2^(attempt-1))] (the destination's retry-max-delay as cap).
 */
int64_t dest_backoff_us(int attempt, int64_t cap);

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
