/*
 * Reading object stores' answers: errors, HEAD headers, listings; pure
 * functions over a received response (objstore.h), fuzzed through
 * tests/fuzz/fuzz_xml.c.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/units.h"
#include "ship/base64.h"
#include "ship/objstore.h"
#include "ship/xml_tag.h"
#include "spool/segment.h"

/* ---- errors ---- */

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

/* An HTTP date (RFC 1123) in microseconds; 0 when it is not one. */
static int64_t
http_date(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%a, %d %b %Y %H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm) * PGA_USEC_PER_SEC;
}

static int
skew_error(struct pga_err *err, const char *what, const char *op, const char *name,
	   const struct http_response *rs, const char *code)
{
	char date[64];
	int64_t server = 0;

	if (http_header(rs, "date", date, sizeof(date)) != NULL)
		server = http_date(date);
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
objstore_http_error(struct pga_err *err, const char *what, const char *op,
		    const char *name, const struct http_response *rs)
{
	char code[128] = "", msg[256] = "", region[64];
	long st = rs->status;
	int cls;

	if (xml_tag(rs->body, "Code", code, sizeof(code)) == NULL)
		snprintf(code, sizeof(code), "HTTP %ld", st);
	xml_tag(rs->body, "Message", msg, sizeof(msg));
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

/* ---- what a HEAD says ---- */

static void
md5_from_etag(const char *etag, struct objstore_seen *seen)
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

static void
md5_from_b64(const char *b64, struct objstore_seen *seen)
{
	uint8_t md5[32];

	if (base64_decode(b64, md5, sizeof(md5)) == 16) {
		memcpy(seen->md5, md5, 16);
		seen->have_md5 = true;
	}
}

void
objstore_read_head(const struct http_response *rs, const char *meta_prefix,
		   struct objstore_seen *seen)
{
	char v[256], hdr[64];
	char *md5;

	memset(seen, 0, sizeof(*seen));
	if (http_header(rs, "content-length", v, sizeof(v)) != NULL)
		seen->obj.size = strtoull(v, NULL, 10);
	snprintf(hdr, sizeof(hdr), "%ssha256", meta_prefix);
	if (http_header(rs, hdr, v, sizeof(v)) != NULL && strlen(v) == 64 &&
	    pga_unhex(v, seen->obj.sha256, PGA_SHA256_LEN) == 0)
		seen->obj.have_sha256 = true;
	if (http_header(rs, "x-goog-hash", v, sizeof(v)) != NULL &&
	    (md5 = strstr(v, "md5=")) != NULL) {
		md5 += 4;
		md5[strcspn(md5, ", ")] = '\0';
		md5_from_b64(md5, seen);
	}
	if (!seen->have_md5 && http_header(rs, "content-md5", v, sizeof(v)) != NULL)
		md5_from_b64(v, seen);
	if (!seen->have_md5 && http_header(rs, "etag", v, sizeof(v)) != NULL)
		md5_from_etag(v, seen);
}

int
objstore_compare(const char *what, const char *name, const struct objstore_seen *seen,
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

/* ---- listings ---- */

/* Where the page after this one starts: "" when this is the last. */
static int
next_marker(const struct objstore_list_syntax *syn, const char *xml, const char *last,
	    struct objstore_page *pg, const char *what, struct pga_err *err)
{
	char trunc[16];

	if (syn->next != NULL) {
		if (xml_tag(xml, syn->next, pg->marker, sizeof(pg->marker)) == NULL)
			pg->marker[0] = '\0';
		return 0;
	}
	pg->marker[0] = '\0';
	if (xml_tag(xml, "IsTruncated", trunc, sizeof(trunc)) == NULL ||
	    strcmp(trunc, "true") != 0)
		return 0;
	if (pg->items == 0)
		return pga_fail(err, PGA_EREMOTE, "%s: listing is truncated but empty", what);
	strlcpy(pg->marker, last, sizeof(pg->marker));
	return 0;
}

/* A common prefix we can use: one component of safe characters, then '/'. */
static bool
dir_safe(const char *rel)
{
	size_t n = strlen(rel);

	if (n < 2 || rel[n - 1] != '/' || memchr(rel, '/', n - 1) != NULL)
		return false;
	if (strcmp(rel, "./") == 0 || strcmp(rel, "../") == 0)
		return false;
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned char ch = (unsigned char)rel[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
		    ch != '.' && ch != '_' && ch != '-')
			return false;
	}
	return true;
}

int
objstore_list_dirs_page_parse(const struct objstore_list_syntax *syn, const char *xml,
			      const char *prefix, struct objstore_page *pg, dest_list_fn fn,
			      void *ctx, const char *what, struct pga_err *err)
{
	size_t plen = strlen(prefix);
	char item[4096], name[2048], last[2048] = "";
	const char *p = xml;
	int rc = 0;

	pg->items = 0;
	while (rc == 0 && (p = xml_tag(p, syn->dir_item, item, sizeof(item))) != NULL) {
		if (xml_tag(item, syn->dir_name, name, sizeof(name)) == NULL)
			return pga_fail(err, PGA_EREMOTE, "%s: malformed listing", what);
		pg->items++;
		if (strcmp(name, last) > 0)
			strlcpy(last, name, sizeof(last));
		if (strncmp(name, prefix, plen) == 0 && dir_safe(name + plen))
			rc = fn(ctx, name + plen, 0, err);
	}
	/* objects on the page count for where the next one starts */
	for (p = xml; rc == 0 && (p = xml_tag(p, syn->item, item, sizeof(item))) != NULL;) {
		pg->items++;
		if (xml_tag(item, syn->name, name, sizeof(name)) != NULL && strcmp(name, last) > 0)
			strlcpy(last, name, sizeof(last));
	}
	if (rc == 0)
		rc = next_marker(syn, xml, last, pg, what, err);
	return rc;
}

int
objstore_list_page_parse(const struct objstore_list_syntax *syn, const char *xml,
			 const char *prefix, struct objstore_page *pg, dest_list_fn fn,
			 void *ctx, const char *what, struct pga_err *err)
{
	size_t plen = strlen(prefix);
	char item[4096], name[2048], size[32];
	const char *p = xml;
	int rc = 0;

	pg->items = 0;
	name[0] = '\0';
	while (rc == 0 && (p = xml_tag(p, syn->item, item, sizeof(item))) != NULL) {
		if (xml_tag(item, syn->name, name, sizeof(name)) == NULL ||
		    xml_tag(item, syn->size, size, sizeof(size)) == NULL)
			return pga_fail(err, PGA_EREMOTE, "%s: malformed listing", what);
		pg->items++;
		/* only names we could fetch back: a foreign or hostile key is skipped */
		if (strncmp(name, prefix, plen) == 0 && dest_name_safe(name + plen) &&
		    seg_name_parse(name + plen, NULL, 0, NULL, NULL) == 0)
			rc = fn(ctx, name + plen, strtoull(size, NULL, 10), err);
	}
	if (rc == 0)
		rc = next_marker(syn, xml, name, pg, what, err);
	return rc;
}
