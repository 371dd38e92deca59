#include "ship/azure_auth.h"

#include <bsd/string.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/dynbuf.h"
#include "ship/base64.h"
#include "ship/sign.h"

#define AZ_NAME_MAX 128
#define AZ_KEY_MAX 128

/* The twelve standard header slots of the string to sign, in order. */
static const char *const std_headers[] = {
	"content-encoding", "content-language", "content-length", "content-md5",
	"content-type", "date", "if-modified-since", "if-match", "if-none-match",
	"if-unmodified-since", "range",
};

struct az_pair {
	char *name;	/* lowercase */
	char *value;
};

static const char *
find_header(const struct azure_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value ? req->headers[i].value : "";
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
put_trimmed(struct dynbuf *sb, const char *v)
{
	size_t n;

	while (is_space(*v))
		v++;
	n = strlen(v);
	while (n > 0 && is_space(v[n - 1]))
		n--;
	dynbuf_addn(sb, v, n);
}

static void
put_standard_headers(struct dynbuf *sb, const struct azure_request *req)
{
	for (size_t i = 0; i < sizeof(std_headers) / sizeof(std_headers[0]); i++) {
		const char *v = find_header(req, std_headers[i]);

		/* since 2015-02-21 a zero length is signed as an empty line */
		if (v != NULL && !(i == 2 && strcmp(v, "0") == 0))
			put_trimmed(sb, v);
		dynbuf_addc(sb, '\n');
	}
}

static int
pair_cmp(const void *a, const void *b)
{
	const struct az_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static void
lowercase(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

/* x-ms-* headers: "name:value\n", sorted by lowercase name. */
static int
put_ms_headers(struct dynbuf *sb, const struct azure_request *req,
	       struct pga_err *err)
{
	struct az_pair pairs[AZURE_MAX_HEADERS];
	char names[AZURE_MAX_HEADERS][AZ_NAME_MAX];
	size_t n = 0;

	if (req->nheaders > AZURE_MAX_HEADERS)
		return pga_fail(err, PGA_EINVAL, "request has more than %d headers",
				AZURE_MAX_HEADERS);
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name;

		if (strncasecmp(name, "x-ms-", 5) != 0)
			continue;
		if (strlcpy(names[n], name, AZ_NAME_MAX) >= AZ_NAME_MAX)
			return pga_fail(err, PGA_EINVAL, "header name '%.40s...' is too long",
					name);
		lowercase(names[n]);
		pairs[n].name = names[n];
		pairs[n].value = (char *)(req->headers[i].value ? req->headers[i].value : "");
		n++;
	}
	qsort(pairs, n, sizeof(pairs[0]), pair_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(pairs[i].name, pairs[i - 1].name) == 0)
			return pga_fail(err, PGA_EINVAL, "header '%s' is given twice",
					pairs[i].name);
		dynbuf_adds(sb, pairs[i].name);
		dynbuf_addc(sb, ':');
		put_trimmed(sb, pairs[i].value);
		dynbuf_addc(sb, '\n');
	}
	return 0;
}

/* Percent-decode in[0..len) into the arena as a NUL-terminated string. */
static char *
arena_decode(struct dynbuf *arena, const char *in, size_t len)
{
	char *start = arena->p + arena->len;

	sign_put_decoded(arena, in, len);
	dynbuf_addc(arena, '\0');
	return start;
}

static int
split_query(const char *q, struct az_pair *pairs, size_t *npairs,
	    struct dynbuf *arena, struct pga_err *err)
{
	size_t n = 0;

	while (*q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t nlen = eq ? (size_t)(eq - q) : len;

		if (len > 0) {
			if (n == AZURE_MAX_PARAMS)
				return pga_fail(err, PGA_EINVAL,
						"request query has more than %d parameters",
						AZURE_MAX_PARAMS);
			pairs[n].name = arena_decode(arena, q, nlen);
			pairs[n].value = eq ? arena_decode(arena, eq + 1, len - nlen - 1)
					    : arena_decode(arena, "", 0);
			if (arena->fail == 0)
				lowercase(pairs[n].name);
			n++;
		}
		q += len + (q[len] == '&');
	}
	*npairs = n;
	return dynbuf_check(arena, "decoded query", err);
}

/* "\nname:v1,v2" per parameter name, names and values sorted. */
static int
put_query(struct dynbuf *sb, const char *query, struct pga_err *err)
{
	struct az_pair pairs[AZURE_MAX_PARAMS];
	struct dynbuf arena;
	char *buf = NULL;
	size_t len = query ? strlen(query) : 0, n = 0;
	int rc = 0;

	if (len == 0)
		goto out;
	if (len > AZURE_QUERY_MAX) {
		rc = pga_fail(err, PGA_EINVAL, "request query is longer than %d bytes",
			      AZURE_QUERY_MAX);
		goto out;
	}
	if ((buf = malloc(len + 2 * AZURE_MAX_PARAMS + 1)) == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory signing a request");
		goto out;
	}
	dynbuf_init_fixed(&arena, buf, len + 2 * AZURE_MAX_PARAMS + 1);
	if ((rc = split_query(query, pairs, &n, &arena, err)) < 0)
		goto out;
	qsort(pairs, n, sizeof(pairs[0]), pair_cmp);
	for (size_t i = 0; i < n; i++) {
		bool same = i > 0 && strcmp(pairs[i].name, pairs[i - 1].name) == 0;

		if (same) {
			dynbuf_addc(sb, ',');
		} else {
			dynbuf_addc(sb, '\n');
			dynbuf_adds(sb, pairs[i].name);
			dynbuf_addc(sb, ':');
		}
		dynbuf_adds(sb, pairs[i].value);
	}
out:
	free(buf);
	return rc;
}

static int
build_sts(const struct azure_request *req, struct dynbuf *sb,
	  struct pga_err *err)
{
	int rc;

	if (req->method == NULL || req->account == NULL || req->path == NULL)
		return pga_fail(err, PGA_EINVAL, "request to sign has no method, account or path");
	dynbuf_adds(sb, req->method);
	dynbuf_addc(sb, '\n');
	put_standard_headers(sb, req);
	if ((rc = put_ms_headers(sb, req, err)) < 0)
		return rc;
	dynbuf_addc(sb, '/');
	dynbuf_adds(sb, req->account);
	dynbuf_adds(sb, req->path);
	if ((rc = put_query(sb, req->query, err)) < 0)
		return rc;
	return dynbuf_check(sb, "azure string to sign", err);
}

int
azure_sign_string(const char *string_to_sign, const char *account_key_b64,
		  char *sig_b64, size_t cap, struct pga_err *err)
{
	uint8_t key[AZ_KEY_MAX], mac[SIGN_HMAC_LEN];
	long klen;
	int rc;

	klen = base64_decode(account_key_b64, key, sizeof(key));
	if (klen <= 0) {
		rc = pga_fail(err, PGA_EINVAL, "azure account key is not valid base64");
		goto out;
	}
	rc = sign_hmac_sha256(key, (size_t)klen, string_to_sign,
			      strlen(string_to_sign), mac, err);
	if (rc == 0 && base64_encode(mac, sizeof(mac), sig_b64, cap) < 0)
		rc = pga_fail(err, PGA_EINVAL, "azure signature does not fit in %zu bytes", cap);
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(mac, sizeof(mac));
	return rc;
}

int
azure_sharedkey_sign(const struct azure_request *req,
		     const char *account_key_b64, char *string_to_sign,
		     size_t sts_cap, char *authorization, size_t auth_cap,
		     struct pga_err *err)
{
	struct dynbuf sts, auth;
	char *buf = NULL, sig[64];
	int rc;

	if ((buf = malloc(AZURE_STS_MAX)) == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory signing a request");
		goto out;
	}
	dynbuf_init_fixed(&sts, buf, AZURE_STS_MAX);
	if ((rc = build_sts(req, &sts, err)) < 0)
		goto out;
	if ((rc = azure_sign_string(dynbuf_str(&sts), account_key_b64, sig, sizeof(sig), err)) < 0)
		goto out;
	if (authorization != NULL) {
		dynbuf_init_fixed(&auth, authorization, auth_cap);
		dynbuf_adds(&auth, "SharedKey ");
		dynbuf_adds(&auth, req->account);
		dynbuf_addc(&auth, ':');
		dynbuf_adds(&auth, sig);
		if ((rc = dynbuf_check(&auth, "authorization header", err)) < 0)
			goto out;
	}
	if (string_to_sign != NULL && strlcpy(string_to_sign, dynbuf_str(&sts), sts_cap) >= sts_cap)
		rc = pga_fail(err, PGA_EINVAL, "string to sign does not fit in %zu bytes",
			      sts_cap);
out:
	free(buf);
	return rc;
}
