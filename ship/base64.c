/* Base64 and base64url; the contract is in base64.h. */
#define _GNU_SOURCE
#include "ship/base64.h"

#include <stdbool.h>
#include <string.h>

static const char std_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static long
encode(const uint8_t *in, size_t len, char *out, size_t cap,
       const char *alphabet, bool pad)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i >= 3 ? 3 : len - i;

		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		if (cap - o < 5)
			return -1;
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		if (n > 1)
			out[o++] = alphabet[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (n > 2)
			out[o++] = alphabet[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	if (cap - o < 1)
		return -1;
	out[o] = '\0';
	return (long)o;
}

long
base64_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	return encode(in, len, out, cap, std_alphabet, true);
}

long
base64url_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	return encode(in, len, out, cap, url_alphabet, false);
}

static int
value_of(char c)
{
	const char *k = c != '\0' ? strchr(std_alphabet, c) : NULL;

	return k != NULL ? (int)(k - std_alphabet) : -1;
}

/* One 4-character group; returns bytes produced (1..3) or -1. */
static int
decode_group(const char *g, bool last, uint8_t out[3])
{
	int v[4], n = 3;

	for (int k = 0; k < 4; k++) {
		v[k] = g[k] == '=' ? 0 : value_of(g[k]);
		if (v[k] < 0)
			return -1;
	}
	if (g[0] == '=' || g[1] == '=' || (g[2] == '=' && g[3] != '='))
		return -1;
	if (g[3] == '=')
		n = g[2] == '=' ? 1 : 2;
	if (n < 3 && !last)
		return -1;
	out[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	out[1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
	out[2] = (uint8_t)(v[2] << 6 | v[3]);
	return n;
}

long
base64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t len = strlen(in), o = 0;
	uint8_t tmp[3];

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int n = decode_group(in + i, i + 4 == len, tmp);

		if (n < 0 || cap - o < (size_t)n) {
			explicit_bzero(tmp, sizeof(tmp));
			return -1;
		}
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	explicit_bzero(tmp, sizeof(tmp));
	return (long)o;
}
