/*
 * sign.h - what the request signers (sigv4.c, azure_auth.c, gcs_auth.c)
 * share: the header pair they are handed, HMAC-SHA256, and the percent
 * decoding both canonical forms start from
 *
 * Pure and thread-safe.
 */
#ifndef PGA_SIGN_H
#define PGA_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "common/dynbuf.h"
#include "common/err.h"

/* One request header as it goes on the wire, for a signer to read. */
struct sign_header {
	const char *name;
	const char *value;
};

#define SIGN_HMAC_LEN 32

/* HMAC-SHA256(key, msg) into out; PGA_EINTERNAL if OpenSSL fails. */
int sign_hmac_sha256(const void *key, size_t keylen, const void *msg,
		     size_t msglen, uint8_t out[SIGN_HMAC_LEN], struct pga_err *err);

/* Append in[0..len) percent-decoded (%XX of either case; a bad escape is kept). */
void sign_put_decoded(struct dynbuf *b, const char *in, size_t len);

#endif
