/*
 * Unit tests of ship/azure_auth.c with published Azure Shared Key values,
 * written in as facts.  The two Shared Key header vectors are unit-test
 * constants of Microsoft's Node.js storage SDKs (azure-sdk-for-node
 * test/services/blob/sharedkey-tests.js "testSignRequest", x-ms-version
 * 2011-08-18; azure-storage-node test/common/sharedkey-tests.js
 * "SignRequest", x-ms-version 2018-03-28).  Those tests build the request
 * with the path "container" (no leading '/'), so the resource line is
 * "/devstoreaccount1container"; we feed the same path and must produce the
 * same string to sign and signature.  The account SAS vector checks the
 * bare HMAC with the same key.  The "/container" variants and the
 * canonicalisation example of Microsoft's "Authorize with Shared Key" page
 * check our own path and query handling; the signatures of the "/container"
 * variants were computed with Python's hmac, independent of this code.
 * Key: the public devstoreaccount1 development key.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ship/base64.h"
#include "ship/azure_auth.h"

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static int
sign(const char *method, const char *account, const char *path, const char *query,
     const struct sign_header *h, size_t n, char *sts, char *auth)
{
	struct azure_request req = {method, account, path, query, h, n};
	struct pga_err err = {0};
	int rc = azure_sharedkey_sign(&req, DEV_KEY, sts, AZURE_STS_MAX, auth,
				      AZURE_AUTH_MAX, &err);

	if (rc != 0)
		print_error("sign failed: %s\n", err.msg);
	return rc;
}

static void
test_published_sdk_vectors(void **state)
{
	static const struct {
		const char *version, *auth, *auth_with_slash;
	} v[] = {
		{"2011-08-18", "SharedKey devstoreaccount1:Y5R86+6XE5MH602SIyjeTwlJuQjbawv20PT4kb/F/04=",
		 "SharedKey devstoreaccount1:y0AVPxTxEGR69UOQt9Df/yEM9iqFWcS2gamG8FefuA4="},
		{"2018-03-28", "SharedKey devstoreaccount1:oLMszNt2eVud2V8sP9MlxQFMIX6R3ofUaOsyI6DwnJQ=",
		 "SharedKey devstoreaccount1:yIPvB4nfgEfotyCaVJUamTZg79qS7PD67J3VL5Ro/7k="},
	};
	char sts[AZURE_STS_MAX], auth[AZURE_AUTH_MAX], want[512];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct sign_header h[] = {
			{"Content-Type", ""}, {"x-ms-version", v[i].version},
			{"x-ms-date", "Fri, 23 Sep 2011 01:37:34 GMT"},
		};

		assert_int_equal(sign("GET", DEV_ACCOUNT, "container", "restype=container",
				      h, 3, sts, auth), 0);
		snprintf(want, sizeof(want),
			 "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 23 Sep 2011 01:37:34 GMT\n"
			 "x-ms-version:%s\n/devstoreaccount1container\nrestype:container",
			 v[i].version);
		assert_string_equal(sts, want);
		assert_string_equal(auth, v[i].auth);
		assert_int_equal(sign("GET", DEV_ACCOUNT, "/container", "restype=container",
				      h, 3, sts, auth), 0);
		assert_string_equal(auth, v[i].auth_with_slash);
	}
}

static void
test_published_sas_hmac(void **state)
{
	char sig[64];
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(azure_sign_string("devstoreaccount1\nr\nb\ns\n2016-02-16T00:00:00Z\n"
					   "2016-02-16T00:30:00Z\n168.1.5.60-168.1.5.70\nhttps\n"
					   "2018-03-28\n", DEV_KEY, sig, sizeof(sig), &err), 0);
	assert_string_equal(sig, "AHRdNnjupqU4dUXLlbOX6ACUA7JQNFBob/zbFHKKzwI=");
}

/* Microsoft's canonicalisation example: query sorted, "name:value" lines. */
static void
test_doc_canonical_example(void **state)
{
	struct sign_header h[] = {
		{"x-ms-version", "2015-02-21"}, {"X-MS-Date", "Fri, 26 Jun 2015 23:39:12 GMT"},
	};
	char sts[AZURE_STS_MAX], auth[AZURE_AUTH_MAX];

	(void)state;
	assert_int_equal(sign("GET", "myaccount", "/mycontainer",
			      "restype=container&comp=metadata&timeout=20", h, 2, sts, auth), 0);
	assert_string_equal(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\n"
			    "x-ms-version:2015-02-21\n/myaccount/mycontainer\ncomp:metadata\n"
			    "restype:container\ntimeout:20");
}

/* A PUT as the shipper sends it: standard slots in their places. */
static void
test_put_layout(void **state)
{
	struct sign_header h[] = {
		{"Content-Length", "5"}, {"content-md5", "XUFAKrxLKna5cZ2REBfFkg=="},
		{"Content-Type", "application/octet-stream"}, {"If-None-Match", "*"},
		{"x-ms-meta-sha256", "  abc  "}, {"x-ms-blob-type", "BlockBlob"},
		{"x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT"}, {"x-ms-version", "2021-08-06"},
		{"User-Agent", "pga"},
	};
	char sts[AZURE_STS_MAX], auth[AZURE_AUTH_MAX];

	(void)state;
	assert_int_equal(sign("PUT", DEV_ACCOUNT, "/devstoreaccount1/c/a%20b.seg", NULL,
			      h, 9, sts, auth), 0);
	assert_string_equal(sts, "PUT\n\n\n5\nXUFAKrxLKna5cZ2REBfFkg==\napplication/octet-stream\n"
			    "\n\n\n*\n\n\nx-ms-blob-type:BlockBlob\n"
			    "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\nx-ms-meta-sha256:abc\n"
			    "x-ms-version:2021-08-06\n/devstoreaccount1/devstoreaccount1/c/a%20b.seg");
	/* since 2015-02-21 a zero Content-Length is an empty line */
	h[0].value = "0";
	assert_int_equal(sign("PUT", DEV_ACCOUNT, "/c/b", NULL, h, 9, sts, auth), 0);
	assert_non_null(strstr(sts, "PUT\n\n\n\nXUFAKrxLKna5cZ2REBfFkg==\n"));
}

static void
test_query_rules(void **state)
{
	struct sign_header h[] = {{"x-ms-date", "d"}};
	char sts[AZURE_STS_MAX], auth[AZURE_AUTH_MAX];
	const char *tail;

	(void)state;
	assert_int_equal(sign("GET", "a", "/c", "restype=container&comp=list&Prefix=dir%2Fx&"
			      "include=metadata&include=deleted&marker=", h, 1, sts, auth), 0);
	tail = strstr(sts, "/a/c");
	assert_non_null(tail);
	assert_string_equal(tail, "/a/c\ncomp:list\ninclude:deleted,metadata\nmarker:\n"
			    "prefix:dir/x\nrestype:container");
}

static void
test_errors(void **state)
{
	struct sign_header h[] = {{"x-ms-date", "d"}, {"X-Ms-Date", "e"}};
	struct azure_request req = {"GET", "a", "/c", NULL, h, 1};
	char sts[64], auth[AZURE_AUTH_MAX];
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(azure_sharedkey_sign(&req, "not base64!", NULL, 0, auth,
					      sizeof(auth), &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "not valid base64"));
	assert_null(strstr(err.msg, "not base64!"));
	assert_int_equal(azure_sharedkey_sign(&req, DEV_KEY, sts, 8, auth, sizeof(auth),
					      &err), PGA_EINVAL);
	assert_int_equal(azure_sharedkey_sign(&req, DEV_KEY, NULL, 0, auth, 20, &err),
			 PGA_EINVAL);
	req.nheaders = 2;
	assert_int_equal(azure_sharedkey_sign(&req, DEV_KEY, NULL, 0, auth, sizeof(auth),
					      &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "'x-ms-date' is given twice"));
}

static void
test_base64(void **state)
{
	static const struct {
		const char *plain, *b64, *b64url;
	} v[] = {	/* RFC 4648 section 10 */
		{"", "", ""}, {"f", "Zg==", "Zg"}, {"fo", "Zm8=", "Zm8"},
		{"foo", "Zm9v", "Zm9v"}, {"foob", "Zm9vYg==", "Zm9vYg"},
		{"fooba", "Zm9vYmE=", "Zm9vYmE"}, {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
	};
	char out[32];
	uint8_t bin[32];
	static const uint8_t hi[] = {0xfb, 0xff, 0xfe};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].plain);

		assert_int_equal(base64_encode((const uint8_t *)v[i].plain, n, out, sizeof(out)),
				 (long)strlen(v[i].b64));
		assert_string_equal(out, v[i].b64);
		assert_int_equal(base64url_encode((const uint8_t *)v[i].plain, n, out, sizeof(out)),
				 (long)strlen(v[i].b64url));
		assert_string_equal(out, v[i].b64url);
		assert_int_equal(base64_decode(v[i].b64, bin, sizeof(bin)), (long)n);
		assert_memory_equal(bin, v[i].plain, n);
	}
	base64_encode(hi, 3, out, sizeof(out));
	assert_string_equal(out, "+//+");
	base64url_encode(hi, 3, out, sizeof(out));
	assert_string_equal(out, "-__-");
	assert_int_equal(base64_decode("Zg=", bin, sizeof(bin)), -1);
	assert_int_equal(base64_decode("Zg==Zg==", bin, sizeof(bin)), -1);
	assert_int_equal(base64_decode("Z===", bin, sizeof(bin)), -1);
	assert_int_equal(base64_decode("Zm9v YmFy", bin, sizeof(bin)), -1);
	assert_int_equal(base64_decode("Zm9vYmFy", bin, 5), -1);
	assert_int_equal(base64_encode((const uint8_t *)"foobar", 6, out, 8), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_sdk_vectors),
		cmocka_unit_test(test_published_sas_hmac),
		cmocka_unit_test(test_doc_canonical_example),
		cmocka_unit_test(test_put_layout),
		cmocka_unit_test(test_query_rules),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
