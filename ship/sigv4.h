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
 * Secrets: the secret key is only read; derived keys live on the stack and
 * are wiped with explicit_bzero() before returning.
 */
#ifndef PGA_SIGV4_H
#define PGA_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;		/* "PUT", "GET", ... */
	const char *path;		/* absolute path as sent, e.g. "/bucket/a%20b" */
	const char *query;		/* raw query without '?', "" or NULL if none */
	const struct sigv4_header *headers;
	size_t nheaders;
	const char *payload_hash;	/* hex SHA-256 or "UNSIGNED-PAYLOAD" */
	int64_t time_us;		/* request time; x-amz-date must match it */
};

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
