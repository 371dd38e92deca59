/*
 * sigv4.h - AWS Signature Version 4 (and GCS's GOOG4-HMAC-SHA256 twin)
 *
 * Pure functions over OpenSSL HMAC/SHA-256: no I/O, no globals, thread-safe.
 * The caller builds the request as it will go on the wire and passes every
 * header it wants signed (host, x-amz-date, x-amz-content-sha256, ... as
 * name/value pairs in any order and case); sigv4 canonicalises (lowercase
 * names, trimmed and space-collapsed values, sorted, duplicate names joined
 * with ','), sorts and encodes the query, and returns the Authorization
 * header value.  Tested against AWS's published SigV4 test suite and the S3
 * documentation's examples (tests/unit/test_sigv4.c).
 *
 * Path and query canonicalisation (req->flags):
 *   0 (S3 and GCS, the default): the path as sent is percent-decoded once and
 *     re-encoded per SigV4 (unreserved A-Z a-z 0-9 - . _ ~ and '/' kept,
 *     everything else %XX uppercase), so "/b/a%20b", "/b/a b" and "/b/a%20b"
 *     give the same canonical URI "/b/a%20b": S3 encodes once.  No dot
 *     segment removal and no '//' collapsing: S3 keys may contain them.
 *   SIGV4_NORMALIZE_PATH: remove "." and ".." segments and collapse empty
 *     segments (a trailing '/' kept only when the path ends in one, as
 *     botocore does), as every AWS service but S3
 *     expects and as the AWS suite's normalize-path cases test.
 *   SIGV4_DOUBLE_ENCODE: encode the path as sent again ('%' -> %25), the
 *     rule of non-S3 services for an already-encoded path.  The AWS suite's
 *     raw paths contain no '%', so it passes in both encoding modes.
 * The query is split on '&', each name and value decoded once (a '+' stays
 * a literal '+': send spaces as %20) and re-encoded, "k" becomes "k=", and
 * pairs are sorted by encoded name then value.  Header values are trimmed,
 * every run of white space (obs-fold newlines too) becomes one space.
 *
 * GOOG4-HMAC-SHA256 differs only in names: key "GOOG4"+secret, scope ending
 * "goog4_request", date header x-goog-date.  If the request carries an
 * x-amz-date (or x-goog-date) header it must equal sigv4_amz_date(time_us);
 * a "host" header is required.  The Authorization value uses ", " between
 * its parts, as botocore and the AWS suite do.
 *
 * Limits: path and query at most SIGV4_PATH_MAX bytes each, at most
 * SIGV4_MAX_HEADERS headers and SIGV4_MAX_PARAMS query parameters; more is
 * PGA_EINVAL.  An output that does not fit its cap is PGA_EINVAL too.
 *
 * Secrets: the secret key is only read; derived keys live on the stack and
 * are wiped with explicit_bzero() before returning.
 */
#ifndef PGA_SIGV4_H
#define PGA_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ship/sign.h"

struct sigv4_request {
	const char *method;		/* "PUT", "GET", ... */
	const char *path;		/* absolute path as sent, e.g. "/bucket/a%20b" */
	const char *query;		/* raw query without '?', "" or NULL if none */
	const struct sign_header *headers;
	size_t nheaders;
	const char *payload_hash;	/* hex SHA-256 or "UNSIGNED-PAYLOAD" */
	int64_t time_us;		/* request time; x-amz-date must match it */
	unsigned flags;			/* SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE, 0 for S3 */
};

#define SIGV4_NORMALIZE_PATH 0x1u
#define SIGV4_DOUBLE_ENCODE 0x2u

#define SIGV4_PATH_MAX 8192
#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_PARAMS 128
/* Comfortable caps for the caller's buffers. */
#define SIGV4_CANONICAL_MAX 32768
#define SIGV4_STS_MAX 256
#define SIGV4_AUTH_MAX 1024

struct sigv4_key {
	const char *algorithm;		/* "AWS4-HMAC-SHA256" or "GOOG4-HMAC-SHA256" */
	const char *access_key_id;
	const char *secret_key;
	const char *region;		/* "us-east-1", GCS: "auto" or a region */
	const char *service;		/* "s3", GCS: "storage" */
};

/* "20150830T123600Z" for time_us; buf >= 17. */
void sigv4_amz_date(int64_t time_us, char *buf, size_t cap);

/* The canonical request, string to sign and Authorization value; any out
 * pointer may be NULL.  Buffers are caller-owned with the given caps. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
	       char *canonical, size_t canonical_cap,
	       char *string_to_sign, size_t sts_cap,
	       char *authorization, size_t auth_cap, struct pga_err *err);

/* Percent-encode a path segment or query component per SigV4 (RFC 3986
 * unreserved kept; '/' kept when keep_slash). */
int sigv4_uri_encode(const char *in, int keep_slash, char *out, size_t cap,
		     struct pga_err *err);

#endif
