/*
 * hash.h - checksums and digests used by the segment format and the shipper
 *
 * crc32c: CRC-32C (Castagnoli), hardware SSE4.2 when the CPU has it, a
 * slice-by-8 table otherwise.  Chain calls: crc = pga_crc32c(crc, buf, n),
 * starting from 0.  Thread-safe.
 *
 * sha256: incremental SHA-256 over OpenSSL's EVP interface.  A context is
 * owned by one thread at a time.  pga_sha256_copy() snapshots a running hash
 * so a writer can rewind an aborted block.
 *
 * fnv1a64: 64-bit FNV-1a, not cryptographic: hash-table buckets, advisory
 * lock keys and the suffix of shortened names in the central schema.  The
 * values are stored in databases, so the function never changes.
 */
#ifndef PGA_HASH_H
#define PGA_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

uint32_t pga_crc32c(uint32_t crc, const void *buf, size_t len);
/* The table-driven path alone, so tests can check it on any CPU. */
uint32_t pga_crc32c_portable(uint32_t crc, const void *buf, size_t len);

#define PGA_SHA256_LEN 32
#define PGA_SHA256_HEX 65	/* 64 hex digits and a NUL */

struct pga_sha256 {
	void *md;	/* EVP_MD_CTX */
};

int pga_sha256_init(struct pga_sha256 *h, struct pga_err *err);
void pga_sha256_update(struct pga_sha256 *h, const void *buf, size_t len);
/* Finish into out; the context may be reused after pga_sha256_init(). */
void pga_sha256_final(struct pga_sha256 *h, uint8_t out[PGA_SHA256_LEN]);
/* Digest of everything so far, leaving the running hash untouched. */
void pga_sha256_peek(const struct pga_sha256 *h, uint8_t out[PGA_SHA256_LEN]);
int pga_sha256_copy(struct pga_sha256 *dst, const struct pga_sha256 *src);
void pga_sha256_free(struct pga_sha256 *h);

/* One-shot helpers. */
void pga_sha256_buf(const void *buf, size_t len, uint8_t out[PGA_SHA256_LEN]);
int pga_sha256_file(const char *path, uint8_t out[PGA_SHA256_LEN],
		    uint64_t *size, struct pga_err *err);

/*
 * FNV-1a over len bytes, continuing from h; h == 0 starts from the standard
 * offset basis (so a non-zero h is a seed that gives another family).
 */
uint64_t pga_fnv1a64(const void *buf, size_t len, uint64_t h);
/* The same over a NUL-terminated string. */
uint64_t pga_fnv1a64_str(const char *s, uint64_t h);

/* Lowercase hex; out must hold 2*len+1 bytes. */
void pga_hex(const uint8_t *in, size_t len, char *out);
/* Value of one hex digit (either case), or -1. */
int pga_hexval(char c);
/* Parse exactly 2*len hex digits; returns 0 or -1. */
int pga_unhex(const char *in, uint8_t *out, size_t len);

#endif
