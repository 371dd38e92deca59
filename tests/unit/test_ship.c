/*
 * Unit tests of the shipper's pure parts: url and name handling, the HTTP
 * helpers (log redaction, base64), object-store error mapping (retryable
 * or not, server code and message, clock skew), the XML reader, object
 * comparison, the token bucket's rate, ordering, retention parsing and the
 * acknowledgement and state files.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/units.h"
#include "ship/base64.h"
#include "ship/dest.h"
#include "ship/http.h"
#include "ship/ratelimit.h"
#include "ship/ship_int.h"
#include "ship/objstore.h"
#include "ship/xml_tag.h"

static void
test_url_split(void **state)
{
	char first[64], rest[128];
	struct pga_err err = {0};

	assert_int_equal(dest_url_split("s3://bucket/a/b/", first, sizeof(first), rest,
					sizeof(rest), &err), 0);
	assert_string_equal(first, "bucket");
	assert_string_equal(rest, "a/b/");
	assert_int_equal(dest_url_split("s3://bucket", first, sizeof(first), rest,
					sizeof(rest), &err), 0);
	assert_string_equal(rest, "");
	assert_int_equal(dest_url_split("gs://b//x", first, sizeof(first), rest, sizeof(rest),
					&err), 0);
	assert_string_equal(rest, "x/");
	assert_int_equal(dest_url_split("s3:///x", first, sizeof(first), rest, sizeof(rest), &err),
			 PGA_EINVAL);
	assert_int_equal(dest_url_split("s3://b/a//c", first, sizeof(first), rest, sizeof(rest),
					&err), PGA_EINVAL);
	assert_int_equal(dest_url_split("s3://b/../c", first, sizeof(first), rest, sizeof(rest),
					&err), PGA_EINVAL);
}

static void
test_name_safe(void **state)
{
	assert_true(dest_name_safe("c1/2026/11/25/0000000000000001-20261125T213407Z.pga.zst"));
	assert_true(dest_name_safe(".hidden-collector/x"));
	assert_false(dest_name_safe("/abs"));
	assert_false(dest_name_safe("a/../b"));
	assert_false(dest_name_safe("a/./b"));
	assert_false(dest_name_safe("a//b"));
	assert_false(dest_name_safe("a/"));
	assert_false(dest_name_safe("a b"));
	assert_false(dest_name_safe(""));
}

static void
test_lookup(void **state)
{
	const struct dest_ops *ops;
	struct pga_err err = {0};

	assert_int_equal(dest_lookup("S3://b/x", &ops, &err), 0);
	assert_string_equal(ops->kind, "s3");
	assert_int_equal(dest_lookup("gs://b", &ops, &err), 0);
	assert_string_equal(ops->kind, "gcs");
	assert_int_equal(dest_lookup("azure://a/c", &ops, &err), 0);
	assert_string_equal(ops->kind, "azure");
	assert_int_equal(dest_lookup("file:///x", &ops, &err), 0);
	assert_string_equal(ops->kind, "file");
	assert_int_equal(dest_lookup("postgresql://u@h/db", &ops, &err), 0);
	assert_string_equal(ops->kind, "postgres");
	assert_int_equal(dest_lookup("host=h dbname=x", &ops, &err), 0);
	assert_string_equal(ops->kind, "postgres");
	assert_int_equal(dest_lookup("ftp://h/x", &ops, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "unknown url scheme 'ftp://'"));
	assert_int_equal(dest_lookup("/plain/path", &ops, &err), PGA_EINVAL);
}

static void
test_url_for_log(void **state)
{
	char buf[256];

	http_url_for_log("https://acct.blob.core.windows.net/c/b?sv=1&sig=SECRET", buf, sizeof(buf));
	assert_string_equal(buf, "https://acct.blob.core.windows.net/c/b");
	http_url_for_log("http://user:pw@host:8080/p?q", buf, sizeof(buf));
	assert_string_equal(buf, "http://host:8080/p");
	assert_null(strstr(buf, "pw"));
}

static void
test_base64(void **state)
{
	static const uint8_t md5[16] = {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
					0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e};
	char out[64];
	uint8_t back[32];

	assert_int_equal(base64_encode(md5, sizeof(md5), out, sizeof(out)), 24);	/* MD5 of nothing, as Content-MD5 */
	assert_string_equal(out, "1B2M2Y8AsgTpgAmY7PhCfg==");
	assert_int_equal(base64_decode(out, back, sizeof(back)), 16);
	assert_memory_equal(back, md5, 16);
	base64_encode((const uint8_t *)"ab", 2, out, sizeof(out));
	assert_string_equal(out, "YWI=");
	assert_int_equal(base64_decode("not*base64", back, sizeof(back)), -1);
}

static void
response(struct http_response *rs, long status, const char *body, const char *headers)
{
	memset(rs, 0, sizeof(*rs));
	rs->status = status;
	snprintf(rs->body, sizeof(rs->body), "%s", body);
	rs->body_len = strlen(rs->body);
	snprintf(rs->headers, sizeof(rs->headers), "%s", headers);
	rs->headers_len = strlen(rs->headers);
}

static void
test_http_error(void **state)
{
	struct http_response *rs = malloc(sizeof(*rs));
	struct pga_err err = {0};

	response(rs, 403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", "");
	assert_int_equal(objstore_http_error(&err, "dest 'x'", "PUT", "a/b", rs), PGA_EREMOTE);
	assert_string_equal(err.msg, "dest 'x': PUT 'a/b': 403 AccessDenied: Access Denied");
	response(rs, 503, "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>", "");
	assert_int_equal(objstore_http_error(&err, "d", "PUT", "n", rs), PGA_ENET);
	response(rs, 400, "<Error><Code>RequestTimeout</Code><Message>idle</Message></Error>", "");
	assert_int_equal(objstore_http_error(&err, "d", "PUT", "n", rs), PGA_ENET);
	response(rs, 429, "", "");
	assert_int_equal(objstore_http_error(&err, "d", "PUT", "n", rs), PGA_ENET);
	assert_non_null(strstr(err.msg, "429 HTTP 429"));
	response(rs, 404, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist"
		 "\nRequestId:1\nTime:x</Message></Error>", "");
	assert_int_equal(objstore_http_error(&err, "d", "PUT", "n", rs), PGA_EREMOTE);
	assert_null(strchr(err.msg, '\n'));
	response(rs, 301, "<Error><Code>PermanentRedirect</Code><Message>elsewhere</Message></Error>",
		 "x-amz-bucket-region: eu-west-1\n");
	objstore_http_error(&err, "d", "PUT", "n", rs);
	assert_non_null(strstr(err.msg, "the bucket is in region 'eu-west-1'"));
	free(rs);
}

static void
test_clock_skew(void **state)
{
	struct http_response *rs = malloc(sizeof(*rs));
	struct pga_err err = {0};
	char hdr[128], date[64];
	time_t ahead = time(NULL) + 3600;
	struct tm tm;

	gmtime_r(&ahead, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	snprintf(hdr, sizeof(hdr), "date: %s\n", date);
	response(rs, 403, "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between "
		 "the request time and the current time is too large.</Message></Error>", hdr);
	assert_int_equal(objstore_http_error(&err, "d", "PUT", "n", rs), PGA_EREMOTE);
	assert_non_null(strstr(err.msg, "clock skew"));
	assert_non_null(strstr(err.msg, "ahead of ours"));
	assert_true(strstr(err.msg, "3600 s") || strstr(err.msg, "3599 s") || strstr(err.msg, "3601 s"));
	response(rs, 403, "<Error><Code>AuthenticationFailed</Code><Message>Request date header too "
		 "old: 'x'</Message></Error>", "");
	objstore_http_error(&err, "d", "PUT", "n", rs);
	assert_non_null(strstr(err.msg, "clock skew"));
	free(rs);
}

static void
test_xml_tag(void **state)
{
	const char *xml = "<L><Contents><Key>a&amp;b</Key><Size>3</Size></Contents>"
			  "<Contents><Key>c</Key><Size>4</Size></Contents></L>";
	char v[16], c[128];
	const char *p = xml;
	int n = 0;

	while ((p = xml_tag(p, "Contents", c, sizeof(c))) != NULL) {
		assert_non_null(xml_tag(c, "Key", v, sizeof(v)));
		assert_string_equal(v, n == 0 ? "a&b" : "c");
		n++;
	}
	assert_int_equal(n, 2);
	assert_null(xml_tag(xml, "Missing", v, sizeof(v)));
	assert_null(xml_tag("<K>0123456789abcdefXYZ</K>", "K", v, sizeof(v)));
}

static void
test_compare(void **state)
{
	struct dest_upload up = {.name = "n", .size = 10};
	struct objstore_seen seen = {0};
	struct http_response *rs = malloc(sizeof(*rs));
	struct pga_err err = {0};

	memset(up.sha256, 0xab, sizeof(up.sha256));
	memset(up.md5, 0xcd, sizeof(up.md5));
	seen.obj.size = 10;
	memcpy(seen.obj.sha256, up.sha256, PGA_SHA256_LEN);
	seen.obj.have_sha256 = true;
	assert_int_equal(objstore_compare("d", "n", &seen, &up, &err), 0);
	seen.obj.sha256[0] ^= 1;
	assert_int_equal(objstore_compare("d", "n", &seen, &up, &err), PGA_ECONFLICT);
	response(rs, 200, "", "content-length: 10\netag: \"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"\n");
	objstore_read_head(rs, "x-amz-meta-", &seen);
	assert_int_equal(seen.obj.size, 10);
	assert_false(seen.obj.have_sha256);
	assert_true(seen.have_md5);
	assert_int_equal(objstore_compare("d", "n", &seen, &up, &err), 0);
	response(rs, 200, "", "content-length: 10\netag: \"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd-2\"\n");
	objstore_read_head(rs, "x-amz-meta-", &seen);
	assert_false(seen.have_md5);	/* a multipart ETag is no MD5 */
	assert_int_equal(objstore_compare("d", "n", &seen, &up, &err), PGA_ECONFLICT);
	assert_non_null(strstr(err.msg, "cannot be verified"));
	seen.obj.size = 9;
	assert_int_equal(objstore_compare("d", "n", &seen, &up, &err), PGA_ECONFLICT);
	assert_non_null(strstr(err.msg, "different size"));
	free(rs);
}

/* Each store names size, SHA-256 and MD5 its own way; one reader takes them all. */
static void
test_read_head(void **state)
{
	struct http_response *rs = malloc(sizeof(*rs));
	struct objstore_seen seen;
	char hdrs[512], sha[PGA_SHA256_HEX];
	uint8_t want[PGA_SHA256_LEN];

	memset(want, 0x5a, sizeof(want));
	pga_hex(want, sizeof(want), sha);
	/* GCS: x-goog-meta-sha256 and an md5 inside x-goog-hash, the ETag no MD5 */
	snprintf(hdrs, sizeof(hdrs), "content-length: 123\nx-goog-meta-sha256: %s\n"
		 "x-goog-hash: crc32c=n03x6A==, md5=1B2M2Y8AsgTpgAmY7PhCfg==\netag: \"0x1\"\n", sha);
	response(rs, 200, "", hdrs);
	objstore_read_head(rs, "x-goog-meta-", &seen);
	assert_int_equal(seen.obj.size, 123);
	assert_true(seen.obj.have_sha256);
	assert_memory_equal(seen.obj.sha256, want, sizeof(want));
	assert_true(seen.have_md5);
	assert_int_equal(seen.md5[0], 0xd4);
	/* the same header under another kind's prefix is not ours */
	objstore_read_head(rs, "x-amz-meta-", &seen);
	assert_false(seen.obj.have_sha256);
	/* Azure: x-ms-meta-sha256 and Content-MD5; its ETag is no MD5 */
	snprintf(hdrs, sizeof(hdrs), "content-length: 7\nx-ms-meta-sha256: %s\n"
		 "content-md5: 1B2M2Y8AsgTpgAmY7PhCfg==\netag: \"0x8DC5F\"\n", sha);
	response(rs, 200, "", hdrs);
	objstore_read_head(rs, "x-ms-meta-", &seen);
	assert_true(seen.obj.have_sha256 && seen.have_md5);
	assert_int_equal(seen.md5[15], 0x7e);
	/* a short or non-hex SHA-256, a bad base64 MD5: ignored, not trusted */
	response(rs, 200, "", "x-ms-meta-sha256: abcd\ncontent-md5: 1B2M2Y8AsgTp*AmY7PhCfg==\n");
	objstore_read_head(rs, "x-ms-meta-", &seen);
	assert_false(seen.obj.have_sha256 || seen.have_md5);
	assert_int_equal(seen.obj.size, 0);
	free(rs);
}

/* Every registered kind has every required slot; an incomplete one is caught. */
static void
test_registry(void **state)
{
	const char *urls[] = {"s3://b", "gs://b", "azure://a/c", "file:///x", "postgres://h/d"};
	const struct dest_ops *ops;
	struct dest_ops broken;
	struct objstore_kind kind;
	struct pga_err err = {0};

	assert_int_equal(dest_registry_check(&err), 0);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		assert_int_equal(dest_lookup(urls[i], &ops, &err), 0);
		assert_int_equal(dest_ops_check(ops, &err), 0);
		/* take each required operation away in turn */
		for (int slot = 0; slot < 7; slot++) {
			static const char *const names[] = {"open", "put", "head", "list", "get",
							    "check", "close"};
			broken = *ops;
			switch (slot) {
			case 0: broken.open = NULL; break;
			case 1: broken.put = NULL; break;
			case 2: broken.head = NULL; break;
			case 3: broken.list = NULL; break;
			case 4: broken.get = NULL; break;
			case 5: broken.check = NULL; break;
			default: broken.close = NULL; break;
			}
			assert_int_equal(dest_ops_check(&broken, &err), PGA_EINTERNAL);
			assert_non_null(strstr(err.msg, names[slot]));
			assert_non_null(strstr(err.msg, ops->kind));
		}
		broken = *ops;
		broken.kind = NULL;
		assert_int_equal(dest_ops_check(&broken, &err), PGA_EINTERNAL);
		broken = *ops;
		broken.unshare = NULL;
		broken.share = objstore_share;
		assert_int_equal(dest_ops_check(&broken, &err), PGA_EINTERNAL);
	}
	/* an object store is checked down to its kind's own slots */
	assert_int_equal(dest_lookup("azure://a/c", &ops, &err), 0);
	assert_non_null(ops->store);
	kind = *ops->store;
	kind.sign = NULL;
	broken = *ops;
	broken.store = &kind;
	assert_int_equal(dest_ops_check(&broken, &err), PGA_EINTERNAL);
	assert_non_null(strstr(err.msg, "'azure' has no sign"));
	kind = *ops->store;
	kind.list.item = NULL;
	assert_int_equal(objstore_kind_check(&kind, "x", &err), PGA_EINTERNAL);
	kind = *ops->store;
	kind.put_val = NULL;
	assert_int_equal(objstore_kind_check(&kind, "x", &err), PGA_EINTERNAL);
	kind = *ops->store;
	kind.setup = NULL;
	assert_int_equal(objstore_kind_check(&kind, "x", &err), PGA_EINTERNAL);
}

/* Every kind a [dest:] key of the option table names is a registered kind. */
static void
test_key_kinds_registered(void **state)
{
	static const char *const forms[] = {"s3://b/p", "gs://b/p", "azure://a/c/p", "file:///x",
					    "postgres://h/d"};
	const char *kinds[5];
	struct pga_err err = {0};

	for (size_t k = 0; k < 5; k++) {
		const struct dest_ops *ops;

		assert_int_equal(dest_lookup(forms[k], &ops, &err), 0);
		kinds[k] = ops->kind;
	}
	for (size_t i = 0; i < pga_nopts; i++) {
		const char *p = pga_opts[i].kinds;

		while (p != NULL && *p) {
			size_t n = strcspn(p, " "), k = 0;

			while (k < 5 && (strlen(kinds[k]) != n || strncmp(kinds[k], p, n) != 0))
				k++;
			if (k == 5)
				fail_msg("'%s' names kind '%.*s', which no scheme has", pga_opts[i].name,
					 (int)n, p);
			p += n + (p[n] == ' ');
		}
	}
}

/* Help, messages and the config documentation list the kinds of the one table. */
static void
test_schemes_documented(void **state)
{
	char *kinds = NULL, *doc = NULL, *line, *save = NULL;
	size_t klen = 0, dlen = 0;
	FILE *f = open_memstream(&kinds, &klen);
	const struct dest_ops *ops;
	struct pga_err err = {0};
	int n = 0;

	dest_print_kinds(f);
	fclose(f);
	f = open_memstream(&doc, &dlen);
	pga_config_print_doc(f, PGA_DOC_TEXT);
	fclose(f);
	assert_int_equal(dest_lookup("ftp://h/x", &ops, &err), PGA_EINVAL);
	for (line = strtok_r(kinds, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char form[64], scheme[40];

		if (sscanf(line, " %63s", form) != 1 || strstr(form, "://") == NULL)
			continue;
		n++;
		/* each listed form names a kind the registry knows */
		assert_int_equal(dest_lookup(form, &ops, &err), 0);
		snprintf(scheme, sizeof(scheme), "%.*s", (int)(strstr(form, "://") - form + 3), form);
		/* and appears in the url key's documentation and in the refusal */
		assert_non_null(strstr(doc, scheme));
		dest_lookup("ftp://h/x", &ops, &err);
		assert_non_null(strstr(err.msg, scheme));
	}
	assert_int_equal(n, 5);
	assert_non_null(strstr(err.msg, "(expected s3://, gs://, azure://, file:// or postgres://)"));
	free(kinds);
	free(doc);
}

/* Listings of both syntaxes: filtering, paging, malformed and empty pages. */
struct collected {
	char names[8][128];
	uint64_t sizes[8];
	int n;
	int fail_at;
};

static int
collect_name(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct collected *c = ctx;

	if (c->n == c->fail_at)
		return pga_fail(err, PGA_EIO, "stop");
	snprintf(c->names[c->n], sizeof(c->names[c->n]), "%s", name);
	c->sizes[c->n++] = size;
	return 0;
}

#define SEG1 "c1/2026/11/25/0000000000000001-20261125T213407Z.pga.zst"
#define SEG2 "c1/2026/11/25/0000000000000002-20261125T213507Z.pga.zst"
#define LONG_DIR "0123456789012345678901234567890123456789012345678901234567890123456789/" \
		 "0123456789012345678901234567890123456789012345678901234567890123456789/"

static void
test_list_page(void **state)
{
	const struct dest_ops *s3, *az;
	struct objstore_page pg;
	struct collected c = {.fail_at = -1};
	struct pga_err err = {0};
	const char *xml =
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		"<Contents><Key>p/" SEG1 "</Key><Size>10</Size></Contents>"
		"<Contents><Key>other/" SEG2 "</Key><Size>11</Size></Contents>"
		"<Contents><Key>p/not-a-segment</Key><Size>12</Size></Contents>"
		"<Contents><Key>p/" SEG2 "</Key><Size>13</Size></Contents>"
		"<Contents><Key>p/../" SEG1 "</Key><Size>14</Size></Contents>"
		"<Contents><Key>p/" LONG_DIR SEG1 "</Key><Size>15</Size></Contents>"
		"<Contents><Key>p/zz&amp;last</Key><Size>1</Size></Contents>"
		"</ListBucketResult>";

	assert_int_equal(dest_lookup("s3://b", &s3, &err), 0);
	assert_int_equal(dest_lookup("azure://a/c", &az, &err), 0);
	assert_int_equal(objstore_list_page_parse(&s3->store->list, xml, "p/", &pg, collect_name,
						  &c, "d", &err), 0);
	/* other prefixes, foreign names, "..", and names too long to be ours are skipped */
	assert_int_equal(c.n, 2);
	assert_string_equal(c.names[0], SEG1);
	assert_int_equal(c.sizes[0], 10);
	assert_string_equal(c.names[1], SEG2);
	assert_int_equal(pg.items, 7);
	/* S3 v1: the next page starts after the last name of this one, whatever it is */
	assert_string_equal(pg.marker, "p/zz&last");
	/* not truncated: done */
	assert_int_equal(objstore_list_page_parse(&s3->store->list,
						  "<R><IsTruncated>false</IsTruncated></R>", "p/", &pg,
						  collect_name, &c, "d", &err), 0);
	assert_string_equal(pg.marker, "");
	/* truncated but empty would page forever */
	assert_int_equal(objstore_list_page_parse(&s3->store->list,
						  "<R><IsTruncated>true</IsTruncated></R>", "", &pg,
						  collect_name, &c, "d", &err), PGA_EREMOTE);
	assert_non_null(strstr(err.msg, "truncated but empty"));
	/* an object without its size, and an unclosed one */
	assert_int_equal(objstore_list_page_parse(&s3->store->list,
						  "<Contents><Key>p/" SEG1 "</Key></Contents>", "p/",
						  &pg, collect_name, &c, "d", &err), PGA_EREMOTE);
	assert_non_null(strstr(err.msg, "malformed listing"));
	c.n = 0;
	assert_int_equal(objstore_list_page_parse(&s3->store->list,
						  "<Contents><Key>p/" SEG1 "</Key><Size>1</Size>", "p/",
						  &pg, collect_name, &c, "d", &err), 0);
	assert_int_equal(c.n, 0);
	/* the callback's refusal stops the page */
	c.n = 0;
	c.fail_at = 1;
	assert_int_equal(objstore_list_page_parse(&s3->store->list, xml, "p/", &pg, collect_name,
						  &c, "d", &err), PGA_EIO);
	/* Azure: Blob/Name/Properties/Content-Length, NextMarker continues */
	c.n = 0;
	c.fail_at = -1;
	assert_int_equal(objstore_list_page_parse(&az->store->list,
		"<EnumerationResults><Blobs><Blob><Name>" SEG1 "</Name><Properties>"
		"<Content-Length>77</Content-Length></Properties></Blob></Blobs>"
		"<NextMarker>2!80!opaque</NextMarker></EnumerationResults>", "", &pg,
		collect_name, &c, "d", &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.sizes[0], 77);
	assert_string_equal(pg.marker, "2!80!opaque");
	assert_int_equal(objstore_list_page_parse(&az->store->list,
		"<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>", "", &pg,
		collect_name, &c, "d", &err), 0);
	assert_string_equal(pg.marker, "");
}

static void
test_ratelimit(void **state)
{
	struct ratelimit rl;
	struct pga_err err = {0};
	int64_t t0 = pga_mono_us(), us;
	size_t total = 0;

	ratelimit_init(&rl, 200 * 1024);
	while (total < 100 * 1024) {
		size_t got;

		assert_int_equal(ratelimit_take(&rl, 8192, &got, NULL, NULL, &err), 0);
		assert_true(got >= 1 && got <= 8192);
		total += got;
	}
	us = pga_mono_us() - t0;
	/* 100 KiB at 200 KiB/s from an empty bucket: half a second */
	assert_true(us >= 450000);
	assert_true(us < 3000000);	/* generous: a loaded machine only slows it */
	ratelimit_destroy(&rl);
}

static bool
always(void *ctx)
{
	(void)ctx;
	return true;
}

static void
test_ratelimit_cancel(void **state)
{
	struct ratelimit rl;
	struct pga_err err = {0};
	size_t got;

	ratelimit_init(&rl, 1);
	assert_int_equal(ratelimit_take(&rl, 100, &got, always, NULL, &err), PGA_ECANCEL);
	ratelimit_destroy(&rl);
	ratelimit_init(&rl, 0);
	assert_int_equal(ratelimit_take(&rl, 100, &got, always, NULL, &err), 0);
	assert_int_equal(got, 100);
	ratelimit_destroy(&rl);
}

static void
test_order(void **state)
{
	struct spool_entry v[5] = {
		{.name = "a1", .collector = "a", .seq = 1, .created_us = 10},
		{.name = "a2", .collector = "a", .seq = 2, .created_us = 5},	/* clock went back */
		{.name = "a3", .collector = "a", .seq = 3, .created_us = 40},
		{.name = "b1", .collector = "b", .seq = 1, .created_us = 1},
		{.name = "b2", .collector = "b", .seq = 2, .created_us = 20},
	};
	struct spool_list l = {v, 5, 5};
	struct pga_err err = {0};
	const char *want[] = {"b1", "a1", "a2", "b2", "a3"};

	assert_int_equal(ship_order_oldest_first(&l, &err), 0);
	for (int i = 0; i < 5; i++)
		assert_string_equal(v[i].name, want[i]);
}

static void
test_retain(void **state)
{
	struct pga_err err = {0};
	bool shipped;
	int64_t keep;

	assert_int_equal(ship_parse_retain("shipped", &shipped, &keep, &err), 0);
	assert_true(shipped);
	assert_int_equal(ship_parse_retain("7d", &shipped, &keep, &err), 0);
	assert_false(shipped);
	assert_int_equal(keep, 7LL * 86400 * PGA_USEC_PER_SEC);
	assert_int_equal(ship_parse_retain("forever", &shipped, &keep, &err), PGA_ECONFIG);
}

static void
test_ack_and_state(void **state)
{
	char dir[] = "/tmp/pga-unit-ship.XXXXXX", path[512];
	struct ship_ack a = {.size = 123, .acked_us = 456}, b;
	struct ship_dest_state st = {0}, st2;
	struct pga_err err = {0};
	FILE *f;

	assert_non_null(mkdtemp(dir));
	memset(a.sha256, 0x5a, sizeof(a.sha256));
	assert_int_equal(ship_ack_read(dir, "d", "c/2026/x.pga.zst", &b), 0);
	assert_int_equal(ship_ack_write(dir, "d", "c/2026/x.pga.zst", &a, true, &err), 0);
	assert_int_equal(ship_ack_read(dir, "d", "c/2026/x.pga.zst", &b), 1);
	assert_int_equal(b.size, 123);
	assert_int_equal(b.acked_us, 456);
	assert_memory_equal(b.sha256, a.sha256, PGA_SHA256_LEN);
	/* a torn marker counts as absent */
	snprintf(path, sizeof(path), "%s/d/c/2026/x.pga.zst.ok", dir);
	f = fopen(path, "w");
	fputs("5a5a5a", f);
	fclose(f);
	assert_int_equal(ship_ack_read(dir, "d", "c/2026/x.pga.zst", &b), 0);
	ship_ack_remove(dir, "d", "c/2026/x.pga.zst");
	assert_int_not_equal(access(path, F_OK), 0);

	st.delivered = 7;
	st.last_success_us = 99;
	st.stopped = true;
	strcpy(st.last_error, "two\nlines");
	assert_int_equal(ship_state_write(dir, "d", &st, &err), 0);
	assert_int_equal(ship_state_read(dir, "d", &st2, &err), 0);
	assert_int_equal(st2.delivered, 7);
	assert_int_equal(st2.last_success_us, 99);
	assert_true(st2.stopped);
	assert_string_equal(st2.last_error, "two lines");
	assert_int_equal(ship_state_read(dir, "none", &st2, &err), 0);
	assert_int_equal(st2.delivered, 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_split),
		cmocka_unit_test(test_name_safe),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_url_for_log),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_http_error),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_xml_tag),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_read_head),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_schemes_documented),
		cmocka_unit_test(test_key_kinds_registered),
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ratelimit_cancel),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_retain),
		cmocka_unit_test(test_ack_and_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
