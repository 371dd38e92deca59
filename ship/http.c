/* HTTP over libcurl for the destinations; the policy is in http.h. */
#define _GNU_SOURCE
#include "ship/http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <curl/curl.h>

#include "common/log.h"
#include "common/units.h"

#define HTTP_CONNECT_MAX_US (10 * PGA_USEC_PER_SEC)
#define HTTP_DEFAULT_TIMEOUT_US (60 * PGA_USEC_PER_SEC)
/* below this a body goes without "Expect: 100-continue" and its round trip */
#define HTTP_EXPECT_MIN (1024 * 1024)
#define HTTP_USER_AGENT "pga/" PGA_VERSION

struct http_client {
	CURL *curl;
	char ca_file[4096];
	bool have_ca;
	int64_t timeout_us;
	char what[128];
	char errbuf[CURL_ERROR_SIZE];
	/* per request */
	const struct http_request *rq;
	struct http_response *rs;
	uint64_t body_pos;
	int64_t last_progress_us;
	curl_off_t last_total;
	bool stalled, cancelled, failed;
	struct pga_err cb_err;		/* error raised inside a callback */
};

/* ---- process-wide init and the DNS/TLS-session share ---- */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLSH *http_share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static bool http_init_ok;

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *u)
{
	(void)h;
	(void)access;
	(void)u;
	pthread_mutex_lock(&share_locks[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *u)
{
	(void)h;
	(void)u;
	pthread_mutex_unlock(&share_locks[data]);
}

static void
http_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	http_share = curl_share_init();
	if (http_share != NULL) {
		curl_share_setopt(http_share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(http_share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(http_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	}
	http_init_ok = true;
}

int
http_client_new(struct http_client **out, const struct http_config *cfg,
		struct pga_err *err)
{
	struct http_client *c;

	*out = NULL;
	pthread_once(&http_once, http_global_init);
	if (!http_init_ok)
		return pga_fail(err, PGA_EINTERNAL, "could not initialise libcurl");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		return pga_fail(err, PGA_ENOMEM, "could not create a curl handle");
	}
	if (cfg->ca_file != NULL) {
		if (strlcpy(c->ca_file, cfg->ca_file, sizeof(c->ca_file)) >= sizeof(c->ca_file)) {
			curl_easy_cleanup(c->curl);
			free(c);
			return pga_fail(err, PGA_EINVAL, "ca-file path too long");
		}
		c->have_ca = true;
	}
	c->timeout_us = cfg->timeout_us > 0 ? cfg->timeout_us : HTTP_DEFAULT_TIMEOUT_US;
	strlcpy(c->what, cfg->what ? cfg->what : "http", sizeof(c->what));
	*out = c;
	return 0;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

/* ---- callbacks ---- */

static bool
cancel_now(void *ctx)
{
	struct http_client *c = ctx;

	return c->rq->cancel != NULL && c->rq->cancel(c->rq->cancel_ctx);
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct http_client *c = ctx;
	const struct http_request *rq = c->rq;
	uint64_t left = rq->body_len - c->body_pos;
	size_t want = size * nitems, got = 0;

	if (left == 0)
		return 0;
	if (want > left)
		want = (size_t)left;
	if (ratelimit_take(rq->rl, want, &want, cancel_now, c, &c->cb_err) < 0) {
		c->cancelled = true;
		return CURL_READFUNC_ABORT;
	}
	if (!rq->body_from_fd) {
		memcpy(buf, (const char *)rq->body + c->body_pos, want);
		got = want;
	} else {
		ssize_t n;

		do
			n = pread(rq->body_fd, buf, want, (off_t)c->body_pos);
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			/* a file shorter than announced is as bad as a read error */
			if (n == 0)
				errno = EIO;
			pga_fail(&c->cb_err, PGA_EIO, "could not read upload body: %m");
			c->failed = true;
			return CURL_READFUNC_ABORT;
		}
		got = (size_t)n;
	}
	c->body_pos += got;
	return got;
}

static int
seek_cb(void *ctx, curl_off_t offset, int origin)
{
	struct http_client *c = ctx;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > c->rq->body_len)
		return CURL_SEEKFUNC_FAIL;
	c->body_pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void
keep_error_body(struct http_response *rs, const char *p, size_t n)
{
	size_t room = sizeof(rs->body) - 1 - rs->body_len;

	if (n > room) {
		n = room;
		rs->body_cut = true;
	}
	memcpy(rs->body + rs->body_len, p, n);
	rs->body_len += n;
	rs->body[rs->body_len] = '\0';
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct http_client *c = ctx;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (c->rq->sink != NULL && status >= 200 && status < 300) {
		if (c->rq->sink(c->rq->sink_ctx, p, n, &c->cb_err) < 0) {
			c->failed = true;
			return 0;
		}
		return n;
	}
	keep_error_body(c->rs, p, n);
	return n;
}

static size_t
header_cb(char *p, size_t size, size_t nitems, void *ctx)
{
	struct http_client *c = ctx;
	struct http_response *rs = c->rs;
	size_t n = size * nitems, i;
	char *dst;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		rs->headers_len = 0;	/* a new response (after 100 Continue) */
		rs->headers[0] = '\0';
		return n;
	}
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	if (n == 0 || memchr(p, ':', n) == NULL ||
	    rs->headers_len + n + 2 > sizeof(rs->headers))
		return size * nitems;
	dst = rs->headers + rs->headers_len;
	for (i = 0; i < n && p[i] != ':'; i++)
		dst[i] = (char)tolower((unsigned char)p[i]);
	memcpy(dst + i, p + i, n - i);
	dst[n] = '\n';
	rs->headers_len += n + 1;
	rs->headers[rs->headers_len] = '\0';
	return size * nitems;
}

static int
xferinfo_cb(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	struct http_client *c = ctx;
	int64_t now = pga_mono_us();

	(void)dltotal;
	(void)ultotal;
	if (cancel_now(c)) {
		c->cancelled = true;
		return 1;
	}
	if (dlnow + ulnow != c->last_total) {
		c->last_total = dlnow + ulnow;
		c->last_progress_us = now;
	} else if (now - c->last_progress_us > c->timeout_us) {
		c->stalled = true;
		return 1;
	}
	return 0;
}

/* ---- one request ---- */

static int
set_method(struct http_client *c, const struct http_request *rq)
{
	CURL *h = c->curl;
	bool has_body = rq->body_len > 0 || rq->body_from_fd || rq->body != NULL;

	if (strcmp(rq->method, "HEAD") == 0)
		return curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (strcmp(rq->method, "GET") == 0)
		return curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		return curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
	}
	if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		return curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	if (has_body)
		return CURLE_BAD_FUNCTION_ARGUMENT;
	return curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
}

static int
set_options(struct http_client *c, const struct http_request *rq,
	    struct curl_slist *hdrs)
{
	CURL *h = c->curl;
	int64_t connect = c->timeout_us < HTTP_CONNECT_MAX_US ? c->timeout_us
							      : HTTP_CONNECT_MAX_US;
	int rc = 0;

	curl_easy_reset(h);	/* keeps live connections and caches */
	rc |= curl_easy_setopt(h, CURLOPT_URL, rq->url);
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_SHARE, http_share);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->have_ca) {
		rc |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
		rc |= curl_easy_setopt(h, CURLOPT_PROXY_CAINFO, c->ca_file);
	}
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect / 1000));
	rc |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_USERAGENT, HTTP_USER_AGENT);
	rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc |= curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	rc |= curl_easy_setopt(h, CURLOPT_READDATA, c);
	rc |= curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
	rc |= curl_easy_setopt(h, CURLOPT_SEEKDATA, c);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	rc |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	rc |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	rc |= curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 128L * 1024);
	rc |= set_method(c, rq);
	return rc;
}

static struct curl_slist *
build_headers(const struct http_request *rq)
{
	struct curl_slist *l = NULL, *n;

	/* curl would add its own Content-Type to POSTs and Expect to uploads */
	if (rq->body_len < HTTP_EXPECT_MIN) {
		n = curl_slist_append(l, "Expect:");
		if (n == NULL)
			goto fail;
		l = n;
	}
	for (size_t i = 0; i < rq->nheaders; i++) {
		n = curl_slist_append(l, rq->headers[i]);
		if (n == NULL)
			goto fail;
		l = n;
	}
	return l != NULL ? l : curl_slist_append(NULL, "Accept: */*");
fail:
	curl_slist_free_all(l);
	return NULL;
}

static int
transport_error(struct http_client *c, CURLcode cc, const char *url,
		struct pga_err *err)
{
	char where[512];
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);

	http_url_for_log(url, where, sizeof(where));
	if (c->failed) {
		*err = c->cb_err;
		return err->code;
	}
	if (c->cancelled)
		return pga_fail(err, PGA_ECANCEL, "%s: request to '%s' cancelled", c->what, where);
	if (c->stalled || cc == CURLE_OPERATION_TIMEDOUT)
		return pga_fail(err, PGA_ETIMEOUT, "%s: request to '%s' timed out (no progress for %lld ms)",
				c->what, where, (long long)(c->timeout_us / 1000));
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
	    cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_ISSUER_ERROR ||
	    cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
		return pga_fail(err, PGA_EREMOTE, "%s: TLS verification of '%s' failed: %s",
				c->what, where, why);
	return pga_fail(err, PGA_ENET, "%s: request to '%s' failed: %s", c->what, where, why);
}

int
http_do(struct http_client *c, const struct http_request *rq,
	struct http_response *rs, struct pga_err *err)
{
	struct curl_slist *hdrs = build_headers(rq);
	int64_t start = pga_mono_us();
	char where[512];
	CURLcode cc;
	int rc = 0;

	if (hdrs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rs->status = 0;
	rs->body_len = rs->headers_len = 0;
	rs->body[0] = rs->headers[0] = '\0';
	rs->body_cut = false;
	c->rq = rq;
	c->rs = rs;
	c->body_pos = 0;
	c->last_progress_us = start;
	c->last_total = 0;
	c->stalled = c->cancelled = c->failed = false;
	c->errbuf[0] = '\0';
	pga_err_clear(&c->cb_err);
	if (set_options(c, rq, hdrs) != CURLE_OK) {
		rc = pga_fail(err, PGA_EINTERNAL, "%s: could not set up a curl request", c->what);
		goto out;
	}
	cc = curl_easy_perform(c->curl);
	rs->elapsed_us = pga_mono_us() - start;
	if (cc != CURLE_OK) {
		rc = transport_error(c, cc, rq->url, err);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	http_url_for_log(rq->url, where, sizeof(where));
	log_debug("%s: %s %s -> %ld (%lld ms)", c->what, rq->method, where, rs->status,
		  (long long)(rs->elapsed_us / 1000));
out:
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	c->rq = NULL;
	c->rs = NULL;
	return rc;
}

/* ---- helpers ---- */

const char *
http_header(const struct http_response *rs, const char *name, char *buf,
	    size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = rs->headers;

	while (*p) {
		const char *eol = strchr(p, '\n');

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t len;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			len = (size_t)(eol - v);
			while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			if (len >= cap)
				return NULL;
			memcpy(buf, v, len);
			buf[len] = '\0';
			return buf;
		}
		p = eol + 1;
	}
	return NULL;
}

void
http_url_for_log(const char *url, char *buf, size_t cap)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;
	const char *path = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(path - host));
	size_t plen = strcspn(path, "?#");

	if (at != NULL)	/* user:password@host: drop the credentials */
		snprintf(buf, cap, "%.*s%.*s%.*s", (int)(host - url), url,
			 (int)(path - at - 1), at + 1, (int)plen, path);
	else
		snprintf(buf, cap, "%.*s%.*s", (int)(path - url), url, (int)plen, path);
}
