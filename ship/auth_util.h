/*
 * auth_util.h - small pieces shared by the signers (sigv4, azure, gcs)
 *
 * A bounded string builder over a caller-owned buffer (it never grows: an
 * overflow is remembered and reported once by the caller), HMAC-SHA256,
 * base64 and base64url.  Pure and thread-safe; nothing here allocates.
 */
#ifndef PGA_AUTH_UTIL_H
#define PGA_AUTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct auth_sb {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void auth_sb_init(struct auth_sb *sb, char *buf, size_t cap);
void auth_sb_putn(struct auth_sb *sb, const char *s, size_t n);
void auth_sb_puts(struct auth_sb *sb, const char *s);
void auth_sb_putc(struct auth_sb *sb, char c);
/* Append in[0..len) percent-decoded (%XX of either case; a bad escape is kept). */
void auth_sb_put_decoded(struct auth_sb *sb, const char *in, size_t len);
/* 0, or PGA_EINVAL naming what did not fit. */
int auth_sb_check(const struct auth_sb *sb, const char *what,
		  struct pga_err *err);

#define AUTH_HMAC_LEN 32

/* HMAC-SHA256(key, msg) into out; PGA_EINTERNAL if OpenSSL fails. */
int auth_hmac_sha256(const void *key, size_t keylen, const void *msg,
		     size_t msglen, uint8_t out[AUTH_HMAC_LEN],
		     struct pga_err *err);

/* Standard base64 with padding; out needs 4*ceil(len/3)+1 bytes.
 * Returns the length written or -1 if it does not fit. */
long auth_base64(const uint8_t *in, size_t len, char *out, size_t cap);
/* base64url without padding (RFC 7515); same contract. */
long auth_base64url(const uint8_t *in, size_t len, char *out, size_t cap);
/* Decode standard base64 (padding required, no white space); returns the
 * decoded length or -1 on bad input or overflow. */
long auth_base64_decode(const char *in, uint8_t *out, size_t cap);

#endif
