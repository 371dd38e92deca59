/*
 * store_util.h - pieces shared by the object-store destinations (S3, GCS,
 * Azure): HTTP status to error mapping, the small XML they answer with,
 * comparing an existing object with the segment, a capped body buffer
 *
 * Error classes (dest.h): 408, 429, 5xx and transient codes (S3's
 * RequestTimeout, SlowDown, BadDigest after a mangled transfer) are
 * PGA_ENET, to be retried; every other non-2xx is PGA_EREMOTE carrying the
 * server's error code and message.  A request refused because of clock
 * skew says so, with the offset from the server's Date header.
 * Messages never contain request headers or query strings.
 * All functions are pure or operate on caller-owned data; thread-safe.
 */
#ifndef PGA_STORE_UTIL_H
#define PGA_STORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ship/dest.h"
#include "ship/http.h"

/* Map a non-2xx response of op ("PUT", "HEAD", ...) on name to an error. */
int store_http_error(struct pga_err *err, const char *what, const char *op,
		     const char *name, const struct http_response *rs);

/*
 * The text of the first <tag>...</tag> at or after p, entities decoded,
 * into out; returns a pointer after the closing tag, or NULL if absent or
 * too long for out.
 */
const char *store_xml_tag(const char *p, const char *tag, char *out, size_t cap);

/*
 * Is the existing object the segment?  Sizes must match, then the SHA-256
 * we stored as metadata, or else an MD5 (hex ETag of a single-part upload,
 * or base64 from x-goog-hash / Content-MD5).  0 when it is the same object,
 * PGA_ECONFLICT when it differs or cannot be verified.
 */
struct store_seen {
	struct dest_object obj;
	bool have_md5;
	uint8_t md5[16];
};
int store_compare(const char *what, const char *name,
		  const struct store_seen *seen, const struct dest_upload *up,
		  struct pga_err *err);
/* Fill md5 from an ETag when it is a plain 32-hex-digit MD5. */
void store_md5_from_etag(const char *etag, struct store_seen *seen);
/* Fill md5 from base64 (Content-MD5, x-goog-hash md5=...). */
void store_md5_from_b64(const char *b64, struct store_seen *seen);

/* A response body collected in memory, capped. */
struct store_buf {
	char *p;
	size_t len, cap, max;
};
int store_buf_sink(void *ctx, const void *buf, size_t len, struct pga_err *err);
void store_buf_free(struct store_buf *b);

/* Parse an HTTP date (RFC 1123); 0 on failure. */
int64_t store_http_date(const char *s);

/*
 * "<base_path>/<percent-encoded prefix+name>", the URL path of an object
 * (what names the destination in messages).  Unsafe names are refused.
 */
int store_object_path(const char *base_path, const char *prefix, const char *name,
		      const char *what, char *path, size_t cap, struct pga_err *err);

/* A dest_list_fn that takes nothing: for checks that only need a listing to answer. */
int store_list_ignore(void *ctx, const char *name, uint64_t size, struct pga_err *err);

#endif
