/*
 * libFuzzer target: what object stores answer, as pga reads it.  The first
 * byte picks the reader: an S3/GCS listing page (ListObjects v1), an Azure
 * listing page (List Blobs), an error reply (the XML body and the headers
 * around a NUL), the HEAD headers, or the element scanner alone.  The
 * syntaxes repeat the kinds' (tests/unit/test_ship.c checks those).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ship/objstore.h"
#include "ship/xml_tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct objstore_list_syntax s3_list = {
	.params = "", .limit = "max-keys", .item = "Contents", .name = "Key", .size = "Size",
};
static const struct objstore_list_syntax azure_list = {
	.params = "comp=list&restype=container", .limit = "maxresults", .item = "Blob",
	.name = "Name", .size = "Content-Length", .next = "NextMarker",
};

static int
take(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	size_t *n = ctx;

	(void)size;
	/* the layer hands on only segment names that are safe to fetch */
	if (!dest_name_safe(name) || seg_name_parse(name, NULL, 0, NULL, NULL) != 0)
		abort();
	return ++*n % 7 == 0 ? pga_fail(err, PGA_EIO, "stop") : 0;
}

/* headers NUL body, each cut to what http.c would keep */
static void
as_response(struct http_response *rs, const char *text, size_t len, long status)
{
	const char *nul = memchr(text, '\0', len);
	size_t hl = nul != NULL ? (size_t)(nul - text) : 0;
	const char *body = nul != NULL ? nul + 1 : text;
	size_t bl = len - (size_t)(body - text);

	memset(rs, 0, sizeof(*rs));
	rs->status = status;
	rs->headers_len = hl < sizeof(rs->headers) - 1 ? hl : sizeof(rs->headers) - 1;
	memcpy(rs->headers, text, rs->headers_len);
	rs->body_len = bl < sizeof(rs->body) - 1 ? bl : sizeof(rs->body) - 1;
	memcpy(rs->body, body, rs->body_len);
	rs->body[strnlen(rs->body, rs->body_len)] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_response rs;
	struct objstore_page pg;
	struct objstore_seen seen;
	struct pga_err err = {0};
	char *text, out[64];
	size_t n = 0;

	if (size < 2)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		objstore_list_page_parse(&s3_list, text, data[0] & 8 ? "p/" : "", &pg, take, &n,
					 "fuzz", &err);
		if (strnlen(pg.marker, sizeof(pg.marker)) == sizeof(pg.marker))
			abort();
		break;
	case 1:
		objstore_list_page_parse(&azure_list, text, "", &pg, take, &n, "fuzz", &err);
		break;
	case 2:
		as_response(&rs, (const char *)data + 1, size - 1, 300 + data[0] % 300);
		objstore_http_error(&err, "fuzz", "PUT", "name", &rs);
		if (err.code != PGA_ENET && err.code != PGA_EREMOTE)
			abort();
		break;
	case 3:
		as_response(&rs, (const char *)data + 1, size - 1, 200);
		objstore_read_head(&rs, data[0] & 8 ? "x-ms-meta-" : "x-amz-meta-", &seen);
		break;
	default:
		for (const char *p = text; p != NULL && *p; )
			p = xml_tag(p, data[0] & 8 ? "Key" : "K", out, sizeof(out) - (data[0] & 7));
		break;
	}
	free(text);
	return 0;
}
