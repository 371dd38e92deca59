/*
 * edkey.h - Ed25519 keys and signatures (OpenSSL EVP), for signed segments
 *
 * A private key lives in a PEM file (PKCS#8, what `pga keygen` and
 * `openssl genpkey -algorithm ed25519` write) of mode 0600 or 0400, owned
 * by the user running pga or root; any other mode is refused before the
 * file is read (a signing key is not a config file: no group may read it).
 * Its bytes are read into a buffer that is wiped (OPENSSL_cleanse) before
 * it is freed, and neither path contents nor key bytes reach a log line.
 *
 * A public key is a PEM file (SubjectPublicKeyInfo).  Its key id is the
 * SHA-256 of the raw 32-byte public key: what a signature frame names and
 * what the central registry stores.
 *
 * Errors: 0 or a negative PGA_E* code with err filled.
 */
#ifndef PGA_EDKEY_H
#define PGA_EDKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hash.h"

#define PGA_SIGN_ALG_ED25519 1
#define PGA_SIGN_RAW_LEN 32	/* raw Ed25519 public key */
#define PGA_SIGN_SIG_LEN 64
#define PGA_SIGN_KEYID_LEN PGA_SHA256_LEN
#define PGA_SIGN_PEM_MAX 4096

struct pga_signkey;	/* a private key (EVP_PKEY) and its key id */
struct evp_pkey_st;	/* OpenSSL's EVP_PKEY */
struct pga_pubkey;	/* a public key and its key id */

/* Write a new pair: prefix.key (0600, O_EXCL, fsync'd) and prefix.pub. */
int pga_sign_keygen(const char *prefix, uint8_t keyid[PGA_SIGN_KEYID_LEN],
		    struct pga_err *err);

int pga_signkey_load(struct pga_signkey **out, const char *path, struct pga_err *err);
void pga_signkey_free(struct pga_signkey *k);
const uint8_t *pga_signkey_id(const struct pga_signkey *k);
/* Ed25519 over msg; sig gets PGA_SIGN_SIG_LEN bytes. */
int pga_signkey_sign(const struct pga_signkey *k, const void *msg, size_t len,
		     uint8_t sig[PGA_SIGN_SIG_LEN], struct pga_err *err);

int pga_pubkey_load(struct pga_pubkey **out, const char *path, struct pga_err *err);
/* From PEM text in memory (the central registry's column). */
int pga_pubkey_parse(struct pga_pubkey **out, const char *pem, size_t len,
		     const char *what, struct pga_err *err);
void pga_pubkey_free(struct pga_pubkey *k);
const uint8_t *pga_pubkey_id(const struct pga_pubkey *k);
/* The key as PEM text (NUL-terminated, at most PGA_SIGN_PEM_MAX). */
const char *pga_pubkey_pem(const struct pga_pubkey *k);
/* true when sig is k's signature of msg. */
bool pga_pubkey_verify(const struct pga_pubkey *k, const void *msg, size_t len,
		       const uint8_t *sig, size_t siglen);

/*
 * Key-file helpers shared with the X25519 keys (common/xkey.h):
 * pga_key_file_write writes a new file (tmp, fsync, link: never replaces
 * one) of the given mode; pga_key_file_read reads a private key file
 * (owner only, 0600 or 0400, else PGA_EPERM naming `what` and the path)
 * into buf, which it wipes on failure (the caller wipes it after use);
 * pga_key_pem gives a key's PEM text (malloc'd; the caller wipes a
 * private one).
 */
int pga_key_file_write(const char *path, const void *data, size_t len, unsigned mode,
		       struct pga_err *err);
int pga_key_file_read(const char *path, const char *what, char *buf, size_t cap,
		      size_t *got, struct pga_err *err);
int pga_key_pem(struct evp_pkey_st *pkey, bool private, char **text, size_t *len,
		struct pga_err *err);
/*
 * The key in a PEM file: a private one read as pga_key_file_read reads
 * (`what` names it in errors; the text is wiped after parsing), or a
 * public one (any mode).  *out is the caller's to free (EVP_PKEY_free).
 */
int pga_pem_key_load(const char *path, const char *what, bool private,
		     struct evp_pkey_st **out, struct pga_err *err);

#endif
