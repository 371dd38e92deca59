#include "ship/sigv4.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bsd/string.h>
#include <time.h>

#include "common/hash.h"
#include "common/dynbuf.h"
#include "ship/base64.h"
#include "ship/sign.h"

#define HDR_NAME_MAX 128

struct canon_header {
	char name[HDR_NAME_MAX];
	const char *value;	/* raw value, normalised on output */
	size_t order;		/* position in the request, for stable merging */
};

struct query_param {
	char *name;		/* encoded */
	char *value;		/* encoded */
};

/* Algorithm-dependent names: AWS4 or GOOG4. */
struct sig_scheme {
	const char *key_prefix;		/* "AWS4" */
	const char *terminator;		/* "aws4_request" */
	const char *date_header;	/* "x-amz-date" */
};

static const struct sig_scheme scheme_aws = {"AWS4", "aws4_request", "x-amz-date"};
static const struct sig_scheme scheme_goog = {"GOOG4", "goog4_request", "x-goog-date"};

void
sigv4_amz_date(int64_t time_us, char *buf, size_t cap)
{
	time_t t = (time_t)(time_us / 1000000);
	struct tm tm;

	if (time_us < 0 && time_us % 1000000 != 0)
		t--;
	gmtime_r(&t, &tm);
	if (strftime(buf, cap, "%Y%m%dT%H%M%SZ", &tm) == 0 && cap > 0)
		buf[0] = '\0';
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static void
encode_bytes(struct dynbuf *sb, const char *in, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

		if (is_unreserved(c) || (keep_slash && c == '/'))
			dynbuf_addc(sb, (char)c);
		else
			dynbuf_addn(sb, esc, 3);
	}
}

int
sigv4_uri_encode(const char *in, int keep_slash, char *out, size_t cap,
		 struct pga_err *err)
{
	struct dynbuf sb;

	dynbuf_init_fixed(&sb, out, cap);
	encode_bytes(&sb, in, strlen(in), keep_slash != 0);
	return dynbuf_check(&sb, "encoded uri component", err);
}

/* Percent-decode in[0..len) into out (never longer than the input). */
static size_t
percent_decode(const char *in, size_t len, char *out)
{
	struct dynbuf sb;

	dynbuf_init_fixed(&sb, out, len + 1);
	sign_put_decoded(&sb, in, len);
	return sb.len;
}

/* Decode (unless double encoding) and encode one component into sb. */
static void
canon_component(struct dynbuf *sb, const char *in, size_t len,
		bool keep_slash, bool decode, char *scratch)
{
	if (decode) {
		len = percent_decode(in, len, scratch);
		in = scratch;
	}
	encode_bytes(sb, in, len, keep_slash);
}

/*
 * Dot-segment removal plus collapsing of empty segments, from in into out
 * (at most strlen(in)+2 bytes).  As botocore does: the result keeps a
 * trailing '/' only when the input ends in '/', so "/a/b/.." gives "/a".
 */
static void
normalize_path(const char *in, char *out)
{
	size_t o = 0, len = strlen(in);
	bool trailing = len > 0 && in[len - 1] == '/';

	for (;;) {
		size_t n;

		in += strspn(in, "/");
		if (*in == '\0')
			break;
		n = strcspn(in, "/");
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (o > 0 && out[--o] != '/')
				;
		} else if (!(n == 1 && in[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, in, n);
			o += n;
		}
		in += n;
	}
	if (o == 0 || trailing)
		out[o++] = '/';
	out[o] = '\0';
}

static int
canon_path(struct dynbuf *sb, const struct sigv4_request *req,
	   struct pga_err *err)
{
	const char *path = req->path && req->path[0] ? req->path : "/";
	size_t len = strlen(path);
	char *copy = NULL, *scratch = NULL;
	int rc = 0;

	if (len > SIGV4_PATH_MAX) {
		rc = pga_fail(err, PGA_EINVAL, "request path is longer than %d bytes",
			      SIGV4_PATH_MAX);
		goto out;
	}
	copy = malloc(len + 2);
	scratch = malloc(len + 2);
	if (copy == NULL || scratch == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory signing a request");
		goto out;
	}
	if (req->flags & SIGV4_NORMALIZE_PATH)
		normalize_path(path, copy);
	else
		memcpy(copy, path, len + 1);
	canon_component(sb, copy, strlen(copy), true,
			!(req->flags & SIGV4_DOUBLE_ENCODE), scratch);
out:
	free(copy);
	free(scratch);
	return rc;
}

static int
param_cmp(const void *a, const void *b)
{
	const struct query_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* Encode one "name[=value]" piece into the arena, filling p. */
static void
query_piece(const char *piece, size_t len, struct query_param *p,
	    struct dynbuf *arena, char *scratch)
{
	const char *eq = memchr(piece, '=', len);
	size_t nlen = eq ? (size_t)(eq - piece) : len;

	p->name = arena->p + arena->len;
	canon_component(arena, piece, nlen, false, true, scratch);
	dynbuf_addc(arena, '\0');
	p->value = arena->p + arena->len;
	if (eq)
		canon_component(arena, eq + 1, len - nlen - 1, false, true, scratch);
	dynbuf_addc(arena, '\0');
}

static int
split_query(const char *q, struct query_param *params, size_t *nparams,
	    struct dynbuf *arena, char *scratch, struct pga_err *err)
{
	size_t n = 0;

	while (*q) {
		size_t len = strcspn(q, "&");

		if (len > 0) {
			if (n == SIGV4_MAX_PARAMS)
				return pga_fail(err, PGA_EINVAL,
						"request query has more than %d parameters",
						SIGV4_MAX_PARAMS);
			query_piece(q, len, &params[n++], arena, scratch);
		}
		q += len + (q[len] == '&');
	}
	*nparams = n;
	return dynbuf_check(arena, "encoded query", err);
}

static int
canon_query(struct dynbuf *sb, const char *query, struct pga_err *err)
{
	struct query_param *params = NULL;
	struct dynbuf arena;
	char *arena_buf = NULL, *scratch = NULL;
	size_t len = query ? strlen(query) : 0, n = 0;
	int rc = 0;

	if (len == 0)
		goto out;
	if (len > SIGV4_PATH_MAX) {
		rc = pga_fail(err, PGA_EINVAL, "request query is longer than %d bytes",
			      SIGV4_PATH_MAX);
		goto out;
	}
	params = calloc(SIGV4_MAX_PARAMS, sizeof(*params));
	arena_buf = malloc(3 * len + 2 * SIGV4_MAX_PARAMS + 1);
	scratch = malloc(len + 1);
	if (params == NULL || arena_buf == NULL || scratch == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory signing a request");
		goto out;
	}
	dynbuf_init_fixed(&arena, arena_buf, 3 * len + 2 * SIGV4_MAX_PARAMS + 1);
	rc = split_query(query, params, &n, &arena, scratch, err);
	if (rc < 0)
		goto out;
	qsort(params, n, sizeof(*params), param_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			dynbuf_addc(sb, '&');
		dynbuf_adds(sb, params[i].name);
		dynbuf_addc(sb, '=');
		dynbuf_adds(sb, params[i].value);
	}
out:
	free(params);
	free(arena_buf);
	free(scratch);
	return rc;
}

static int
header_cmp(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trimmed value with every run of white space folded to one space. */
static void
put_header_value(struct dynbuf *sb, const char *v)
{
	bool pending_space = false, started = false;

	for (; *v; v++) {
		if (is_space(*v)) {
			pending_space = started;
			continue;
		}
		if (pending_space)
			dynbuf_addc(sb, ' ');
		dynbuf_addc(sb, *v);
		pending_space = false;
		started = true;
	}
}

static int
collect_headers(const struct sigv4_request *req, struct canon_header *hs,
		struct pga_err *err)
{
	if (req->nheaders > SIGV4_MAX_HEADERS)
		return pga_fail(err, PGA_EINVAL, "request has more than %d headers",
				SIGV4_MAX_HEADERS);
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name;
		size_t n = strlen(name);

		if (n == 0 || n >= HDR_NAME_MAX)
			return pga_fail(err, PGA_EINVAL, "bad header name length %zu", n);
		for (size_t k = 0; k <= n; k++)
			hs[i].name[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ?
					       name[k] + 32 : name[k]);
		hs[i].value = req->headers[i].value ? req->headers[i].value : "";
		hs[i].order = i;
	}
	qsort(hs, req->nheaders, sizeof(*hs), header_cmp);
	return 0;
}

/* "name:v1,v2\n" lines into sb, "name;name" into signed. */
static void
put_headers(struct dynbuf *sb, struct dynbuf *signed_hdrs,
	    const struct canon_header *hs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool continues = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;

		if (continues) {
			dynbuf_addc(sb, ',');
		} else {
			if (i > 0) {
				dynbuf_addc(sb, '\n');
				dynbuf_addc(signed_hdrs, ';');
			}
			dynbuf_adds(sb, hs[i].name);
			dynbuf_addc(sb, ':');
			dynbuf_adds(signed_hdrs, hs[i].name);
		}
		put_header_value(sb, hs[i].value);
	}
	if (n > 0)
		dynbuf_addc(sb, '\n');
}

static const char *
find_header(const struct canon_header *hs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(hs[i].name, name) == 0)
			return hs[i].value;
	return NULL;
}

static int
check_request(const struct sigv4_request *req, const struct sig_scheme *sch,
	      const struct canon_header *hs, struct pga_err *err)
{
	char want[32];
	const char *date;

	if (find_header(hs, req->nheaders, "host") == NULL)
		return pga_fail(err, PGA_EINVAL, "request to sign has no 'host' header");
	sigv4_amz_date(req->time_us, want, sizeof(want));
	date = find_header(hs, req->nheaders, sch->date_header);
	if (date != NULL && strcmp(date, want) != 0)
		return pga_fail(err, PGA_EINVAL,
				"header '%s' is '%s' but the signing time is '%s'",
				sch->date_header, date, want);
	return 0;
}

/* Canonical request into sb, "a;b;c" into signed_hdrs. */
static int
build_canonical(const struct sigv4_request *req, const struct sig_scheme *sch,
		struct dynbuf *sb, struct dynbuf *signed_hdrs,
		struct pga_err *err)
{
	struct canon_header *hs = NULL;
	int rc;

	hs = calloc(SIGV4_MAX_HEADERS, sizeof(*hs));
	if (hs == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory signing a request");
		goto out;
	}
	rc = collect_headers(req, hs, err);
	if (rc == 0)
		rc = check_request(req, sch, hs, err);
	if (rc < 0)
		goto out;
	dynbuf_adds(sb, req->method);
	dynbuf_addc(sb, '\n');
	if ((rc = canon_path(sb, req, err)) < 0)
		goto out;
	dynbuf_addc(sb, '\n');
	if ((rc = canon_query(sb, req->query, err)) < 0)
		goto out;
	dynbuf_addc(sb, '\n');
	put_headers(sb, signed_hdrs, hs, req->nheaders);
	dynbuf_addc(sb, '\n');
	dynbuf_adds(sb, dynbuf_str(signed_hdrs));
	dynbuf_addc(sb, '\n');
	dynbuf_adds(sb, req->payload_hash);
	rc = dynbuf_check(sb, "canonical request", err);
	if (rc == 0)
		rc = dynbuf_check(signed_hdrs, "signed header list", err);
out:
	free(hs);
	return rc;
}

/* kSigning = HMAC chain over date, region, service, terminator. */
static int
derive_key(const struct sigv4_key *key, const struct sig_scheme *sch,
	   const char *date8, uint8_t out[SIGN_HMAC_LEN], struct pga_err *err)
{
	char secret[512];
	uint8_t k1[SIGN_HMAC_LEN], k2[SIGN_HMAC_LEN];
	int n, rc;

	n = snprintf(secret, sizeof(secret), "%s%s", sch->key_prefix, key->secret_key);
	if (n < 0 || (size_t)n >= sizeof(secret)) {
		rc = pga_fail(err, PGA_EINVAL, "secret key is too long");
		goto out;
	}
	/* never hash into the buffer holding the key: no aliasing in HMAC() */
	rc = sign_hmac_sha256(secret, (size_t)n, date8, strlen(date8), k1, err);
	if (rc == 0)
		rc = sign_hmac_sha256(k1, sizeof(k1), key->region, strlen(key->region), k2, err);
	if (rc == 0)
		rc = sign_hmac_sha256(k2, sizeof(k2), key->service, strlen(key->service), k1, err);
	if (rc == 0)
		rc = sign_hmac_sha256(k1, sizeof(k1), sch->terminator,
				      strlen(sch->terminator), out, err);
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(k1, sizeof(k1));
	explicit_bzero(k2, sizeof(k2));
	return rc;
}

static int
pick_scheme(const struct sigv4_key *key, const struct sig_scheme **sch,
	    struct pga_err *err)
{
	if (key->algorithm == NULL || key->access_key_id == NULL ||
	    key->secret_key == NULL || key->region == NULL || key->service == NULL)
		return pga_fail(err, PGA_EINVAL, "incomplete signing key");
	if (strcmp(key->algorithm, "AWS4-HMAC-SHA256") == 0)
		*sch = &scheme_aws;
	else if (strcmp(key->algorithm, "GOOG4-HMAC-SHA256") == 0)
		*sch = &scheme_goog;
	else
		return pga_fail(err, PGA_EINVAL, "unknown signing algorithm '%s'",
				key->algorithm);
	return 0;
}

static void
put_scope(struct dynbuf *sb, const struct sigv4_key *key,
	  const struct sig_scheme *sch, const char *date8)
{
	dynbuf_adds(sb, date8);
	dynbuf_addc(sb, '/');
	dynbuf_adds(sb, key->region);
	dynbuf_addc(sb, '/');
	dynbuf_adds(sb, key->service);
	dynbuf_addc(sb, '/');
	dynbuf_adds(sb, sch->terminator);
}

/* String to sign from the canonical request; scope into scope_sb. */
static int
build_sts(const struct sigv4_key *key, const struct sig_scheme *sch,
	  const char *amzdate, const char *canonical, struct dynbuf *sts,
	  struct dynbuf *scope, struct pga_err *err)
{
	uint8_t digest[PGA_SHA256_LEN];
	char hex[PGA_SHA256_HEX], date8[9];
	int rc;

	memcpy(date8, amzdate, 8);
	date8[8] = '\0';
	put_scope(scope, key, sch, date8);
	pga_sha256_buf(canonical, strlen(canonical), digest);
	pga_hex(digest, sizeof(digest), hex);
	dynbuf_adds(sts, key->algorithm);
	dynbuf_addc(sts, '\n');
	dynbuf_adds(sts, amzdate);
	dynbuf_addc(sts, '\n');
	dynbuf_adds(sts, dynbuf_str(scope));
	dynbuf_addc(sts, '\n');
	dynbuf_adds(sts, hex);
	rc = dynbuf_check(scope, "credential scope", err);
	return rc < 0 ? rc : dynbuf_check(sts, "string to sign", err);
}

static int
build_authorization(const struct sigv4_key *key, const struct sig_scheme *sch,
		    const char *sts, const char *scope, const char *signed_hdrs,
		    const char *date8, struct dynbuf *auth, struct pga_err *err)
{
	uint8_t kdate[SIGN_HMAC_LEN], sig[SIGN_HMAC_LEN];
	char hex[2 * SIGN_HMAC_LEN + 1];
	int rc;

	rc = derive_key(key, sch, date8, kdate, err);
	if (rc == 0)
		rc = sign_hmac_sha256(kdate, sizeof(kdate), sts, strlen(sts), sig, err);
	if (rc < 0)
		goto out;
	pga_hex(sig, sizeof(sig), hex);
	dynbuf_adds(auth, key->algorithm);
	dynbuf_adds(auth, " Credential=");
	dynbuf_adds(auth, key->access_key_id);
	dynbuf_addc(auth, '/');
	dynbuf_adds(auth, scope);
	dynbuf_adds(auth, ", SignedHeaders=");
	dynbuf_adds(auth, signed_hdrs);
	dynbuf_adds(auth, ", Signature=");
	dynbuf_adds(auth, hex);
	rc = dynbuf_check(auth, "authorization header", err);
out:
	explicit_bzero(kdate, sizeof(kdate));
	return rc;
}

struct sign_bufs {
	char *canonical;
	char sts[SIGV4_STS_MAX];
	char scope[SIGV4_STS_MAX];
	char signed_hdrs[SIGV4_MAX_HEADERS * HDR_NAME_MAX];
	char auth[SIGV4_AUTH_MAX];
};

static int
copy_out(char *dst, size_t cap, const char *src, const char *what,
	 struct pga_err *err)
{
	if (dst == NULL)
		return 0;
	if (strlcpy(dst, src, cap) >= cap)
		return pga_fail(err, PGA_EINVAL, "%s does not fit in %zu bytes", what, cap);
	return 0;
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_key *key,
	   char *canonical, size_t canonical_cap,
	   char *string_to_sign, size_t sts_cap,
	   char *authorization, size_t auth_cap, struct pga_err *err)
{
	const struct sig_scheme *sch = NULL;
	struct sign_bufs *b = NULL;
	struct dynbuf canon, sts, scope, shdrs, auth;
	char amzdate[32];
	int rc;

	if ((rc = pick_scheme(key, &sch, err)) < 0)
		goto out;
	if (req->method == NULL || req->payload_hash == NULL) {
		rc = pga_fail(err, PGA_EINVAL, "request to sign has no method or payload hash");
		goto out;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->canonical = malloc(SIGV4_CANONICAL_MAX)) == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory signing a request");
		goto out;
	}
	dynbuf_init_fixed(&canon, b->canonical, SIGV4_CANONICAL_MAX);
	dynbuf_init_fixed(&sts, b->sts, sizeof(b->sts));
	dynbuf_init_fixed(&scope, b->scope, sizeof(b->scope));
	dynbuf_init_fixed(&shdrs, b->signed_hdrs, sizeof(b->signed_hdrs));
	dynbuf_init_fixed(&auth, b->auth, sizeof(b->auth));
	sigv4_amz_date(req->time_us, amzdate, sizeof(amzdate));
	if ((rc = build_canonical(req, sch, &canon, &shdrs, err)) < 0 ||
	    (rc = build_sts(key, sch, amzdate, dynbuf_str(&canon), &sts, &scope, err)) < 0)
		goto out;
	amzdate[8] = '\0';
	rc = build_authorization(key, sch, dynbuf_str(&sts), dynbuf_str(&scope),
				 dynbuf_str(&shdrs), amzdate,
				 &auth, err);
	if (rc == 0)
		rc = copy_out(canonical, canonical_cap, dynbuf_str(&canon), "canonical request", err);
	if (rc == 0)
		rc = copy_out(string_to_sign, sts_cap, dynbuf_str(&sts), "string to sign", err);
	if (rc == 0)
		rc = copy_out(authorization, auth_cap, dynbuf_str(&auth), "authorization header", err);
out:
	if (b != NULL) {
		free(b->canonical);
		free(b);
	}
	return rc;
}
