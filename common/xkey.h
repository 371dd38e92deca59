/*
 * xkey.h - X25519 keys and the envelope of encrypted segments (OpenSSL EVP)
 *
 * The scheme is age's (age-encryption.org/v1, X25519 recipients), with
 * AES-256-GCM where age has ChaCha20-Poly1305:
 *   - each segment has a random 32-byte data key;
 *   - for each recipient, an ephemeral X25519 key pair; the shared secret
 *     with the recipient's public key goes through HKDF-SHA256 (salt: the
 *     ephemeral public key then the recipient's, info "pga-segment-wrap-v1")
 *     into a 32-byte wrap key, which seals the data key with AES-256-GCM
 *     (a zero nonce: each wrap key is used once) and the caller's
 *     associated data (the segment header's fields): 48 bytes wrapped;
 *   - the data is sealed in chunks with the data key (pga_aead below).
 * Whoever holds only public keys (a collector) can wrap but never unwrap:
 * a stolen collector reveals no segment, its own past ones included.
 *
 * Private keys: PKCS#8 PEM (`pga keygen --encryption`, or `openssl genpkey
 * -algorithm x25519`), owner-only (0600 or 0400, else refused before being
 * read, as signing keys: edkey.h), read into a buffer that is wiped; the
 * key material is held by OpenSSL, which clears it when freed.  Public
 * keys: SubjectPublicKeyInfo PEM.  A key id is the SHA-256 of the raw
 * 32-byte public key, as for signing keys.
 *
 * Errors: 0 or a negative PGA_E* code with err filled.  A failed unwrap or
 * an authentication failure is PGA_ECHECKSUM.
 */
#ifndef PGA_XKEY_H
#define PGA_XKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hash.h"

#define PGA_X_RAW_LEN 32		/* raw X25519 public key */
#define PGA_X_KEYID_LEN PGA_SHA256_LEN
#define PGA_X_DATAKEY_LEN 32		/* AES-256 */
#define PGA_X_TAG_LEN 16		/* GCM tag */
#define PGA_X_NONCE_LEN 12		/* GCM nonce */
#define PGA_X_WRAPPED_LEN (PGA_X_DATAKEY_LEN + PGA_X_TAG_LEN)
#define PGA_X_KEYCHECK_LEN 8

struct pga_xpub;	/* a recipient: X25519 public key and its id */
struct pga_xkey;	/* an X25519 private key and its (public) id */

/* Write a new pair: prefix.key (0600, never replacing a file) and prefix.pub. */
int pga_x_keygen(const char *prefix, uint8_t keyid[PGA_X_KEYID_LEN], struct pga_err *err);

int pga_xpub_load(struct pga_xpub **out, const char *path, struct pga_err *err);
void pga_xpub_free(struct pga_xpub *k);
const uint8_t *pga_xpub_id(const struct pga_xpub *k);

int pga_xkey_load(struct pga_xkey **out, const char *path, struct pga_err *err);
void pga_xkey_free(struct pga_xkey *k);
const uint8_t *pga_xkey_id(const struct pga_xkey *k);

/* A fresh random data key. */
int pga_x_datakey(uint8_t dk[PGA_X_DATAKEY_LEN], struct pga_err *err);

/*
 * Wrap dk for recipient `to`: eph gets the ephemeral public key, wrapped
 * the sealed data key, both for the segment header.  aad is bound to it.
 */
int pga_x_wrap(const struct pga_xpub *to, const uint8_t dk[PGA_X_DATAKEY_LEN],
	       const void *aad, size_t aadlen, uint8_t eph[PGA_X_RAW_LEN],
	       uint8_t wrapped[PGA_X_WRAPPED_LEN], struct pga_err *err);
/*
 * Unwrap with private key k: PGA_ECORRUPT when wlen is not
 * PGA_X_WRAPPED_LEN, PGA_ECHECKSUM when the wrapped key, the ephemeral key
 * or aad were altered (or the entry is not for k).  dk is wiped on failure.
 */
int pga_x_unwrap(const struct pga_xkey *k, const uint8_t eph[PGA_X_RAW_LEN],
		 const uint8_t *wrapped, size_t wlen, const void *aad, size_t aadlen,
		 uint8_t dk[PGA_X_DATAKEY_LEN], struct pga_err *err);

/*
 * The key check of a data key: HKDF-SHA256(dk, info "pga-segment-keycheck-v1"),
 * 8 bytes.  Written in the clear, it tells a chunk sealed under another
 * segment's data key from an altered one; it reveals nothing of dk.
 */
int pga_x_keycheck(const uint8_t dk[PGA_X_DATAKEY_LEN], uint8_t out[PGA_X_KEYCHECK_LEN],
		   struct pga_err *err);

/*
 * AES-256-GCM with one key for many (nonce, aad, message) triples: the key
 * schedule is set once, each seal/open gives its own nonce.  The caller
 * guarantees that a nonce is never used twice with one key.
 */
struct pga_aead;

int pga_aead_new(struct pga_aead **out, const uint8_t key[PGA_X_DATAKEY_LEN],
		 struct pga_err *err);
/* out gets len bytes of ciphertext (out may be in), tag the tag. */
int pga_aead_seal(struct pga_aead *a, const uint8_t nonce[PGA_X_NONCE_LEN],
		  const void *aad, size_t aadlen, const void *in, size_t len, void *out,
		  uint8_t tag[PGA_X_TAG_LEN], struct pga_err *err);
/*
 * out gets len bytes of plaintext, to be used only when this returns 0;
 * PGA_ECHECKSUM when the tag does not authenticate (out is then wiped).
 */
int pga_aead_open(struct pga_aead *a, const uint8_t nonce[PGA_X_NONCE_LEN],
		  const void *aad, size_t aadlen, const void *in, size_t len, void *out,
		  const uint8_t tag[PGA_X_TAG_LEN], struct pga_err *err);
void pga_aead_free(struct pga_aead *a);

#endif
