/*
 * Signed HTTP requests for the tests, built with our own signers and sent
 * with libcurl, so a wrong signature fails against a verifying server
 * (azurite, moto) or against botocore's value (--print).
 *
 *   s3-request [opts] METHOD ENDPOINT RAWPATH     SigV4 (AWS4 or GOOG4)
 *   azure-request [opts] METHOD ENDPOINT RAWPATH  Shared Key
 *
 * RAWPATH is the unencoded path ("/bucket/my key"); we percent-encode it
 * per SigV4 for the wire.  Options:
 *   --query NAME=VALUE   raw query parameter (encoded here), repeatable
 *   --header 'N: v'      extra header (signed), repeatable
 *   --body FILE          request body (PUT/POST)
 *   --content-md5[=B64]  add Content-MD5 of the body (or this value)
 *   --time SECONDS       signing time (unix seconds; default now)
 *   --print              print the Authorization value, send nothing
 *   --verbose            canonical request / string to sign on stderr
 *   --out FILE           response body to FILE (default stderr)
 *   --dump-headers FILE  response headers to FILE
 *   s3 only: --region R, --service S, --goog4, --unsigned-payload,
 *            --generic (non-S3 path rules: normalise, double-encode)
 *   azure only: --version V (x-ms-version, default 2021-08-06)
 * Credentials only from the environment, never argv: AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; AZURE_STORAGE_ACCOUNT,
 * AZURE_STORAGE_KEY.  Prints "status NNN" on stdout (status 0 when no
 * answer came); exits 0 on 2xx, 22 on another status, 1 on a local or
 * transport error.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/hash.h"
#include "ship/base64.h"
#include "ship/azure_auth.h"
#include "ship/sigv4.h"
#include "tests/helper/helper.h"

#define MAX_HDRS 32
#define MAX_QUERY 32
#define HDR_MAX 1024
#define BODY_MAX (64 * 1024 * 1024)

struct sign_opts {
	const char *method, *endpoint, *rawpath;
	const char *query[MAX_QUERY];
	size_t nquery;
	char hdr_name[MAX_HDRS][128];
	char hdr_value[MAX_HDRS][HDR_MAX];
	size_t nhdrs;
	const char *body_file, *md5_value, *out_file, *headers_file;
	const char *region, *service, *version;
	bool want_md5, print, verbose, goog4, unsigned_payload, generic;
	long long time_s;
	/* filled while building */
	uint8_t *body;
	size_t body_len;
	char url[8192];
	char path[4096];
	char qstr[4096];
	char host[256];
};

static int
fail(const char *what, const char *detail)
{
	fprintf(stderr, "pga-test-helper: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	return 1;
}

static int
add_header(struct sign_opts *o, const char *name, const char *value)
{
	if (o->nhdrs == MAX_HDRS || strlen(name) >= sizeof(o->hdr_name[0]) ||
	    strlen(value) >= sizeof(o->hdr_value[0]))
		return fail("too many or too long headers", name);
	strcpy(o->hdr_name[o->nhdrs], name);
	strcpy(o->hdr_value[o->nhdrs], value);
	o->nhdrs++;
	return 0;
}

static int
parse_header_arg(struct sign_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char name[128];

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(name))
		return fail("bad --header, want 'Name: value'", arg);
	snprintf(name, sizeof(name), "%.*s", (int)(colon - arg), arg);
	colon++;
	while (*colon == ' ')
		colon++;
	return add_header(o, name, colon);
}

static int
parse_opts(int argc, char **argv, struct sign_opts *o)
{
	static const struct option longopts[] = {
		{"query", 1, 0, 'q'}, {"header", 1, 0, 'H'}, {"body", 1, 0, 'b'},
		{"content-md5", 2, 0, 'm'}, {"time", 1, 0, 't'}, {"print", 0, 0, 'p'},
		{"verbose", 0, 0, 'v'}, {"out", 1, 0, 'o'}, {"dump-headers", 1, 0, 'D'},
		{"region", 1, 0, 'r'}, {"service", 1, 0, 's'}, {"goog4", 0, 0, 'g'},
		{"unsigned-payload", 0, 0, 'u'}, {"version", 1, 0, 'V'}, {"generic", 0, 0, 'G'},
		{0, 0, 0, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (o->nquery == MAX_QUERY)
				return fail("too many --query", NULL);
			o->query[o->nquery++] = optarg;
			break;
		case 'H':
			if (parse_header_arg(o, optarg) != 0)
				return 1;
			break;
		case 'b': o->body_file = optarg; break;
		case 'm': o->want_md5 = true; o->md5_value = optarg; break;
		case 't': o->time_s = atoll(optarg); break;
		case 'p': o->print = true; break;
		case 'v': o->verbose = true; break;
		case 'o': o->out_file = optarg; break;
		case 'D': o->headers_file = optarg; break;
		case 'r': o->region = optarg; break;
		case 's': o->service = optarg; break;
		case 'g': o->goog4 = true; break;
		case 'u': o->unsigned_payload = true; break;
		case 'V': o->version = optarg; break;
		case 'G': o->generic = true; break;
		default: return fail("bad option", NULL);
		}
	}
	if (argc - optind != 3)
		return fail("usage: METHOD ENDPOINT RAWPATH", NULL);
	o->method = argv[optind];
	o->endpoint = argv[optind + 1];
	o->rawpath = argv[optind + 2];
	return 0;
}

static int
load_body(struct sign_opts *o)
{
	FILE *f;
	long n;

	if (o->body_file == NULL)
		return 0;
	f = fopen(o->body_file, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > BODY_MAX) {
		if (f)
			fclose(f);
		return fail("could not read body", o->body_file);
	}
	rewind(f);
	o->body = malloc((size_t)n + 1);
	if (o->body == NULL || fread(o->body, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return fail("could not read body", o->body_file);
	}
	fclose(f);
	o->body_len = (size_t)n;
	return 0;
}

static int
add_md5(struct sign_opts *o)
{
	uint8_t md[16];
	unsigned int mdlen = 0;
	char b64[32];

	if (!o->want_md5)
		return 0;
	if (o->md5_value != NULL)
		return add_header(o, "Content-MD5", o->md5_value);
	if (EVP_Digest(o->body ? o->body : (uint8_t *)"", o->body_len, md, &mdlen, EVP_md5(),
		       NULL) != 1)
		return fail("md5 failed", NULL);
	base64_encode(md, sizeof(md), b64, sizeof(b64));
	return add_header(o, "Content-MD5", b64);
}

/* Wire path and query from the raw forms; host from the endpoint. */
static int
build_url(struct sign_opts *o)
{
	struct pga_err err = {0};
	const char *hp = strstr(o->endpoint, "://");
	size_t ql = 0;
	int n;

	if (hp == NULL)
		return fail("endpoint must be http://host:port", o->endpoint);
	snprintf(o->host, sizeof(o->host), "%.*s", (int)strcspn(hp + 3, "/"), hp + 3);
	if (sigv4_uri_encode(o->rawpath, 1, o->path, sizeof(o->path), &err) < 0)
		return fail("path", err.msg);
	o->qstr[0] = '\0';
	for (size_t i = 0; i < o->nquery; i++) {
		const char *eq = strchr(o->query[i], '=');
		char name[1024], enc[2048];

		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? (size_t)(eq - o->query[i]) : strlen(o->query[i])), o->query[i]);
		if (sigv4_uri_encode(name, 0, enc, sizeof(enc), &err) < 0)
			return fail("query", err.msg);
		ql += (size_t)snprintf(o->qstr + ql, sizeof(o->qstr) - ql, "%s%s=",
				       i ? "&" : "", enc);
		if (ql >= sizeof(o->qstr))
			return fail("query too long", NULL);
		if (eq && sigv4_uri_encode(eq + 1, 0, enc, sizeof(enc), &err) < 0)
			return fail("query", err.msg);
		ql += (size_t)snprintf(o->qstr + ql, sizeof(o->qstr) - ql, "%s", eq ? enc : "");
		if (ql >= sizeof(o->qstr))
			return fail("query too long", NULL);
	}
	n = snprintf(o->url, sizeof(o->url), "%.*s%s%s%s",
		     (int)(hp + 3 - o->endpoint + strlen(o->host)), o->endpoint, o->path,
		     o->qstr[0] ? "?" : "", o->qstr);
	if (n < 0 || (size_t)n >= sizeof(o->url))
		return fail("url too long", o->endpoint);
	return 0;
}

struct upload {
	const uint8_t *data;
	size_t len, off;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *ctx)
{
	struct upload *u = ctx;
	size_t want = size * n, left = u->len - u->off;

	if (want > left)
		want = left;
	memcpy(buf, u->data + u->off, want);
	u->off += want;
	return want;
}

static struct curl_slist *
curl_headers(const struct sign_opts *o, const char *authorization)
{
	struct curl_slist *list = NULL;
	char line[HDR_MAX + 160];

	for (size_t i = 0; i < o->nhdrs; i++) {
		/* "Name;" makes curl send a header with an empty value */
		if (o->hdr_value[i][0] == '\0')
			snprintf(line, sizeof(line), "%s;", o->hdr_name[i]);
		else
			snprintf(line, sizeof(line), "%s: %s", o->hdr_name[i], o->hdr_value[i]);
		list = curl_slist_append(list, line);
	}
	snprintf(line, sizeof(line), "Authorization: %s", authorization);
	list = curl_slist_append(list, line);
	list = curl_slist_append(list, "Expect:");
	list = curl_slist_append(list, "Accept:");
	if (o->body == NULL)
		list = curl_slist_append(list, "Content-Type:");
	return list;
}

static void
set_method(CURL *c, const struct sign_opts *o, struct upload *up)
{
	if (strcmp(o->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(o->method, "PUT") == 0 || strcmp(o->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, up);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
	} else if (strcmp(o->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
	}
}

static int
send_request(const struct sign_opts *o, const char *authorization)
{
	struct upload up = {o->body ? o->body : (const uint8_t *)"", o->body_len, 0};
	struct curl_slist *hdrs = curl_headers(o, authorization);
	FILE *out = o->out_file ? fopen(o->out_file, "wb") : stderr;
	FILE *hout = o->headers_file ? fopen(o->headers_file, "wb") : NULL;
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode cc = CURLE_FAILED_INIT;

	if (c != NULL && out != NULL && (o->headers_file == NULL || hout != NULL)) {
		curl_easy_setopt(c, CURLOPT_URL, o->url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
		if (hout)
			curl_easy_setopt(c, CURLOPT_HEADERDATA, hout);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
		set_method(c, o, &up);
		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	}
	printf("status %ld\n", status);
	if (o->out_file && out)
		fclose(out);
	else
		fputc('\n', stderr);
	if (hout)
		fclose(hout);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK)
		return fail("request failed", curl_easy_strerror(cc));
	return status >= 200 && status < 300 ? 0 : 22;
}

static int
prepare(int argc, char **argv, struct sign_opts *o)
{
	if (parse_opts(argc, argv, o) != 0 || load_body(o) != 0 || add_md5(o) != 0 ||
	    build_url(o) != 0)
		return 1;
	if (o->time_s == 0)
		o->time_s = (long long)time(NULL);
	return add_header(o, "Host", o->host);
}

static int
finish(struct sign_opts *o, const char *auth, const char *canonical, const char *sts)
{
	int rc;

	if (o->verbose)
		fprintf(stderr, "--- canonical request\n%s\n--- string to sign\n%s\n---\n",
			canonical ? canonical : "", sts);
	if (o->print) {
		printf("%s\n", auth);
		return 0;
	}
	rc = send_request(o, auth);
	return rc;
}

/* ---- s3-request ---- */

static int
s3_headers(struct sign_opts *o, const char *prefix, char *payload_hash)
{
	char date[32], name[64];
	uint8_t digest[PGA_SHA256_LEN];
	const char *token = getenv("AWS_SESSION_TOKEN");

	if (o->unsigned_payload) {
		strcpy(payload_hash, "UNSIGNED-PAYLOAD");
	} else {
		pga_sha256_buf(o->body ? o->body : (uint8_t *)"", o->body_len, digest);
		pga_hex(digest, sizeof(digest), payload_hash);
	}
	sigv4_amz_date(o->time_s * 1000000LL, date, sizeof(date));
	snprintf(name, sizeof(name), "%s-date", prefix);
	if (add_header(o, name, date) != 0)
		return 1;
	snprintf(name, sizeof(name), "%s-content-sha256", prefix);
	if (add_header(o, name, payload_hash) != 0)
		return 1;
	snprintf(name, sizeof(name), "%s-security-token", prefix);
	if (token && *token && add_header(o, name, token) != 0)
		return 1;
	return 0;
}

int
helper_s3_request(int argc, char **argv)
{
	static struct sign_opts o;
	struct sign_header hs[MAX_HDRS];
	char payload_hash[PGA_SHA256_HEX], *canonical = malloc(SIGV4_CANONICAL_MAX);
	char sts[SIGV4_STS_MAX], auth[SIGV4_AUTH_MAX];
	struct pga_err err = {0};
	struct sigv4_key key = {NULL, getenv("AWS_ACCESS_KEY_ID"),
				getenv("AWS_SECRET_ACCESS_KEY"), "us-east-1", "s3"};
	int rc = 1;

	if (canonical == NULL || prepare(argc, argv, &o) != 0)
		goto out;
	if (key.access_key_id == NULL || key.secret_key == NULL) {
		rc = fail("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", NULL);
		goto out;
	}
	key.algorithm = o.goog4 ? "GOOG4-HMAC-SHA256" : "AWS4-HMAC-SHA256";
	key.region = o.region ? o.region : key.region;
	key.service = o.service ? o.service : (o.goog4 ? "storage" : "s3");
	if (s3_headers(&o, o.goog4 ? "x-goog" : "x-amz", payload_hash) != 0)
		goto out;
	for (size_t i = 0; i < o.nhdrs; i++)
		hs[i] = (struct sign_header){o.hdr_name[i], o.hdr_value[i]};
	struct sigv4_request req = {o.method, o.path, o.qstr, hs, o.nhdrs, payload_hash,
				    o.time_s * 1000000LL,
				    o.generic ? SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE : 0};

	if (sigv4_sign(&req, &key, canonical, SIGV4_CANONICAL_MAX, sts, sizeof(sts), auth,
		       sizeof(auth), &err) < 0) {
		rc = fail("sign", err.msg);
		goto out;
	}
	rc = finish(&o, auth, canonical, sts);
out:
	free(canonical);
	free(o.body);
	return rc;
}

/* ---- azure-request ---- */

static int
azure_headers(struct sign_opts *o)
{
	char date[64], len[32];
	time_t t = (time_t)o->time_s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (add_header(o, "x-ms-date", date) != 0 ||
	    add_header(o, "x-ms-version", o->version ? o->version : "2021-08-06") != 0)
		return 1;
	if (strcmp(o->method, "PUT") == 0 || strcmp(o->method, "POST") == 0) {
		snprintf(len, sizeof(len), "%zu", o->body_len);
		return add_header(o, "Content-Length", len);
	}
	return 0;
}

int
helper_azure_request(int argc, char **argv)
{
	static struct sign_opts o;
	struct sign_header hs[MAX_HDRS];
	char *sts = malloc(AZURE_STS_MAX), auth[AZURE_AUTH_MAX];
	const char *account = getenv("AZURE_STORAGE_ACCOUNT"), *key = getenv("AZURE_STORAGE_KEY");
	struct pga_err err = {0};
	int rc = 1;

	if (sts == NULL || prepare(argc, argv, &o) != 0 || azure_headers(&o) != 0)
		goto out;
	if (account == NULL || key == NULL) {
		rc = fail("set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY", NULL);
		goto out;
	}
	for (size_t i = 0; i < o.nhdrs; i++)
		hs[i] = (struct sign_header){o.hdr_name[i], o.hdr_value[i]};
	struct azure_request req = {o.method, account, o.path, o.qstr, hs, o.nhdrs};

	if (azure_sharedkey_sign(&req, key, sts, AZURE_STS_MAX, auth, sizeof(auth), &err) < 0) {
		rc = fail("sign", err.msg);
		goto out;
	}
	rc = finish(&o, auth, NULL, sts);
out:
	free(sts);
	free(o.body);
	return rc;
}
