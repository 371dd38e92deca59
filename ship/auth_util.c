#include "ship/auth_util.h"

#include "common/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

void
auth_sb_init(struct auth_sb *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	sb->overflow = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

void
auth_sb_putn(struct auth_sb *sb, const char *s, size_t n)
{
	if (sb->overflow)
		return;
	if (n >= sb->cap - sb->len) {
		sb->overflow = true;
		return;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void
auth_sb_puts(struct auth_sb *sb, const char *s)
{
	auth_sb_putn(sb, s, strlen(s));
}

void
auth_sb_put_decoded(struct auth_sb *sb, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] == '%' && len - i >= 3 && (hi = pga_hexval(in[i + 1])) >= 0 &&
		    (lo = pga_hexval(in[i + 2])) >= 0) {
			auth_sb_putc(sb, (char)(hi << 4 | lo));
			i += 2;
		} else {
			auth_sb_putc(sb, in[i]);
		}
	}
}

void
auth_sb_putc(struct auth_sb *sb, char c)
{
	auth_sb_putn(sb, &c, 1);
}

int
auth_sb_check(const struct auth_sb *sb, const char *what, struct pga_err *err)
{
	if (sb->overflow)
		return pga_fail(err, PGA_EINVAL, "%s does not fit in %zu bytes",
				what, sb->cap);
	return 0;
}

int
auth_hmac_sha256(const void *key, size_t keylen, const void *msg,
		 size_t msglen, uint8_t out[AUTH_HMAC_LEN], struct pga_err *err)
{
	unsigned int outlen = 0;

	if (keylen > (size_t)INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen) == NULL ||
	    outlen != AUTH_HMAC_LEN)
		return pga_fail(err, PGA_EINTERNAL, "hmac-sha256 failed in openssl");
	return 0;
}

static long
base64_any(const uint8_t *in, size_t len, char *out, size_t cap,
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
auth_base64(const uint8_t *in, size_t len, char *out, size_t cap)
{
	return base64_any(in, len, out, cap,
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
			  true);
}

long
auth_base64url(const uint8_t *in, size_t len, char *out, size_t cap)
{
	return base64_any(in, len, out, cap,
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
			  false);
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* One 4-character group; returns bytes produced (1..3) or -1. */
static int
b64_group(const char *g, bool last, uint8_t out[3])
{
	int v[4], n = 3;

	for (int k = 0; k < 4; k++) {
		v[k] = g[k] == '=' ? 0 : b64_value(g[k]);
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
auth_base64_decode(const char *in, uint8_t *out, size_t cap)
{
	size_t len = strlen(in), o = 0;
	uint8_t tmp[3];

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int n = b64_group(in + i, i + 4 == len, tmp);

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
