/*
 * base64.h - Base64 (RFC 4648): the standard alphabet with padding, as in
 * Content-MD5, x-goog-hash and Azure keys, and base64url without padding,
 * as in a JWT (RFC 7515)
 *
 * Encoders return the length written (a NUL follows) or -1 when out, cap
 * bytes long, cannot hold it: 4*ceil(len/3)+1 bytes always suffice.
 * The decoder is strict: standard alphabet, padding required, no white
 * space, nothing after the padding; it returns the decoded length or -1
 * for bad input or when cap bytes do not hold the result.
 * Pure and thread-safe; nothing here allocates.
 */
#ifndef PGA_BASE64_H
#define PGA_BASE64_H

#include <stddef.h>
#include <stdint.h>

long base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
long base64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);
long base64_decode(const char *in, uint8_t *out, size_t cap);

#endif
