#include "common/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- FNV-1a ---- */

uint64_t
pga_fnv1a64(const void *buf, size_t len, uint64_t h)
{
	const unsigned char *p = buf;

	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
pga_fnv1a64_str(const char *s, uint64_t h)
{
	return pga_fnv1a64(s, strlen(s), h);
}

/* ---- CRC-32C ---- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_have_sse42;

static void
crc_init_tables(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_have_sse42 = __builtin_cpu_supports("sse4.2") &&
			 getenv("PGA_NO_HW_CRC") == NULL;
#endif
}

static uint32_t
crc_soft(uint32_t c, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= c;
		c = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
		    crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
		    crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
		    crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t c64 = c;

	while (n >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}
#endif

uint32_t
pga_crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t c = ~crc;

	pthread_once(&crc_once, crc_init_tables);
#if defined(__x86_64__)
	if (crc_have_sse42)
		return ~crc_hw(c, buf, len);
#endif
	return ~crc_soft(c, buf, len);
}

uint32_t
pga_crc32c_portable(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init_tables);
	return ~crc_soft(~crc, buf, len);
}

/* ---- SHA-256 ---- */

int
pga_sha256_init(struct pga_sha256 *h, struct pga_err *err)
{
	if (h->md == NULL)
		h->md = EVP_MD_CTX_new();
	if (h->md == NULL || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		return pga_fail(err, PGA_ENOMEM, "could not initialise sha-256");
	return 0;
}

void
pga_sha256_update(struct pga_sha256 *h, const void *buf, size_t len)
{
	if (len > 0)
		EVP_DigestUpdate(h->md, buf, len);
}

void
pga_sha256_final(struct pga_sha256 *h, uint8_t out[PGA_SHA256_LEN])
{
	unsigned int n = PGA_SHA256_LEN;

	EVP_DigestFinal_ex(h->md, out, &n);
}

void
pga_sha256_peek(const struct pga_sha256 *h, uint8_t out[PGA_SHA256_LEN])
{
	EVP_MD_CTX *tmp = EVP_MD_CTX_new();
	unsigned int n = PGA_SHA256_LEN;

	if (tmp == NULL || EVP_MD_CTX_copy_ex(tmp, h->md) != 1)
		memset(out, 0, PGA_SHA256_LEN);
	else
		EVP_DigestFinal_ex(tmp, out, &n);
	EVP_MD_CTX_free(tmp);
}

int
pga_sha256_copy(struct pga_sha256 *dst, const struct pga_sha256 *src)
{
	if (dst->md == NULL)
		dst->md = EVP_MD_CTX_new();
	if (dst->md == NULL || EVP_MD_CTX_copy_ex(dst->md, src->md) != 1)
		return PGA_ENOMEM;
	return 0;
}

void
pga_sha256_free(struct pga_sha256 *h)
{
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

void
pga_sha256_buf(const void *buf, size_t len, uint8_t out[PGA_SHA256_LEN])
{
	unsigned int n = PGA_SHA256_LEN;

	EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL);
}

int
pga_sha256_file(const char *path, uint8_t out[PGA_SHA256_LEN], uint64_t *size,
		struct pga_err *err)
{
	struct pga_sha256 h = {0};
	uint8_t buf[65536];
	uint64_t total = 0;
	int fd = -1, rc;
	ssize_t n;

	rc = pga_sha256_init(&h, err);
	if (rc < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = pga_fail(err, PGA_EIO, "could not read '%s': %m", path);
			goto out;
		}
		pga_sha256_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	pga_sha256_final(&h, out);
	if (size != NULL)
		*size = total;
out:
	if (fd >= 0)
		close(fd);
	pga_sha256_free(&h);
	return rc;
}

void
pga_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
pga_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pga_unhex(const char *in, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = pga_hexval(in[2 * i]), lo;

		if (hi < 0)
			return -1;
		lo = pga_hexval(in[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
