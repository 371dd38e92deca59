/* Shared object-store helpers; see store_util.h. */
#define _GNU_SOURCE
#include "ship/store_util.h"
#include "common/fsutil.h"
#include "ship/base64.h"
#include "ship/dest.h"
#include "ship/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/units.h"

static bool
transient_code(const char *code)
{
	static const char *const codes[] = {
		"RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable",
		"BadDigest", "OperationAborted", "ServerBusy", "OperationTimedOut",
		"Md5Mismatch", "InvalidMd5",
		NULL,
	};

	for (const char *const *c = codes; *c; c++)
		if (strcmp(code, *c) == 0)
			return true;
	return false;
}

static bool
looks_like_skew(const char *code, const char *msg)
{
	return strcasestr(code, "skew") != NULL || strcasestr(msg, "skew") != NULL ||
	       strcasestr(msg, "too old") != NULL || strcmp(code, "RequestExpired") == 0;
}

static int
skew_error(struct pga_err *err, const char *what, const char *op, const char *name,
	   const struct http_response *rs, const char *code)
{
	char date[64];
	int64_t server = 0;

	if (http_header(rs, "date", date, sizeof(date)) != NULL)
		server = store_http_date(date);
	if (server != 0) {
		int64_t off = (server - pga_now_us()) / PGA_USEC_PER_SEC;

		return pga_fail(err, PGA_EREMOTE,
				"%s: %s '%s' refused for clock skew (%s): the server's clock is "
				"%lld s %s ours; fix this host's time (NTP)",
				what, op, name, code, (long long)(off < 0 ? -off : off),
				off < 0 ? "behind" : "ahead of");
	}
	return pga_fail(err, PGA_EREMOTE,
			"%s: %s '%s' refused for clock skew (%s): fix this host's time (NTP)",
			what, op, name, code);
}

int
store_http_error(struct pga_err *err, const char *what, const char *op,
		 const char *name, const struct http_response *rs)
{
	char code[128] = "", msg[256] = "", region[64];
	long st = rs->status;
	int cls;

	if (store_xml_tag(rs->body, "Code", code, sizeof(code)) == NULL)
		snprintf(code, sizeof(code), "HTTP %ld", st);
	store_xml_tag(rs->body, "Message", msg, sizeof(msg));
	msg[strcspn(msg, "\r\n")] = '\0';	/* Azure appends RequestId and Time lines */
	if (msg[0] == '\0')	/* Azure HEAD errors carry it in a header */
		http_header(rs, "x-ms-error-code", msg, sizeof(msg));
	if (looks_like_skew(code, msg) && st == 403)
		return skew_error(err, what, op, name, rs, code);
	cls = (st == 408 || st == 429 || st >= 500 || transient_code(code)) ? PGA_ENET : PGA_EREMOTE;
	if (http_header(rs, "x-amz-bucket-region", region, sizeof(region)) != NULL &&
	    (st == 301 || st == 400 || st == 403))
		return pga_fail(err, cls, "%s: %s '%s': %ld %s: %s (the bucket is in region '%s')",
				what, op, name, st, code, msg[0] ? msg : "-", region);
	return pga_fail(err, cls, "%s: %s '%s': %ld %s%s%s", what, op, name, st, code,
			msg[0] ? ": " : "", msg);
}

static void
xml_decode(const char *in, size_t n, char *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
	};
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t k;

		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			size_t el = strlen(ents[k].ent);

			if (i + el <= n && strncmp(in + i, ents[k].ent, el) == 0) {
				out[o++] = ents[k].c;
				i += el;
				break;
			}
		}
		if (k == sizeof(ents) / sizeof(ents[0]))
			out[o++] = in[i++];
	}
	out[o] = '\0';
}

const char *
store_xml_tag(const char *p, const char *tag, char *out, size_t cap)
{
	char open[64], close[64];
	const char *s, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (cap > 0)
		out[0] = '\0';
	s = strstr(p, open);
	if (s == NULL)
		return NULL;
	s += strlen(open);
	e = strstr(s, close);
	if (e == NULL || (size_t)(e - s) >= cap)
		return NULL;
	xml_decode(s, (size_t)(e - s), out);
	return e + strlen(close);
}

void
store_md5_from_etag(const char *etag, struct store_seen *seen)
{
	char hex[33];
	size_t n = 0;

	for (const char *c = etag; *c && n < sizeof(hex); c++)
		if (*c != '"' && *c != ' ')
			hex[n++] = (char)tolower((unsigned char)*c);
	if (n != 32)
		return;
	hex[32] = '\0';
	if (pga_unhex(hex, seen->md5, 16) == 0)
		seen->have_md5 = true;
}

void
store_md5_from_b64(const char *b64, struct store_seen *seen)
{
	uint8_t md5[32];

	if (base64_decode(b64, md5, sizeof(md5)) == 16) {
		memcpy(seen->md5, md5, 16);
		seen->have_md5 = true;
	}
}

int
store_compare(const char *what, const char *name, const struct store_seen *seen,
	      const struct dest_upload *up, struct pga_err *err)
{
	if (seen->obj.size != up->size)
		return pga_fail(err, PGA_ECONFLICT,
				"%s: object '%s' already exists with a different size (%llu bytes, "
				"the segment has %llu)", what, name,
				(unsigned long long)seen->obj.size, (unsigned long long)up->size);
	if (seen->obj.have_sha256) {
		if (memcmp(seen->obj.sha256, up->sha256, PGA_SHA256_LEN) != 0)
			return pga_fail(err, PGA_ECONFLICT,
					"%s: object '%s' already exists with different content (sha256 differs)",
					what, name);
		return 0;
	}
	if (seen->have_md5) {
		if (memcmp(seen->md5, up->md5, 16) != 0)
			return pga_fail(err, PGA_ECONFLICT,
					"%s: object '%s' already exists with different content (md5 differs)",
					what, name);
		return 0;
	}
	return pga_fail(err, PGA_ECONFLICT,
			"%s: object '%s' already exists and its content cannot be verified "
			"(no sha256 metadata, no plain md5)", what, name);
}

int
store_buf_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct store_buf *b = ctx;

	if (b->len + len + 1 > b->max)
		return pga_fail(err, PGA_EREMOTE, "response larger than %zu bytes", b->max);
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		p = realloc(b->p, cap);
		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

void
store_buf_free(struct store_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int64_t
store_http_date(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
	if (end == NULL)
		return 0;
	return (int64_t)timegm(&tm) * PGA_USEC_PER_SEC;
}

int
store_object_path(const char *base_path, const char *prefix, const char *name,
		  const char *what, char *path, size_t cap, struct pga_err *err)
{
	char key[2048], enc[6144];
	int rc;

	if (!dest_name_safe(name))
		return pga_fail(err, PGA_EINVAL, "%s: unsafe object name '%s'", what, name);
	rc = pga_path(key, sizeof(key), err, "%s%s", prefix, name);
	if (rc == 0)
		rc = sigv4_uri_encode(key, 1, enc, sizeof(enc), err);
	if (rc == 0)
		rc = pga_path(path, cap, err, "%s/%s", base_path, enc);
	return rc;
}

int
store_list_ignore(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	(void)ctx;
	(void)name;
	(void)size;
	(void)err;
	return 0;
}
