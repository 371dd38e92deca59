/*
 * http.h - the shipper's HTTP client, a thin layer over libcurl
 *
 * One struct http_client per upload slot (one thread).  It wraps one curl
 * easy handle, so consecutive requests of a slot reuse its keep-alive
 * connection; DNS answers and TLS sessions are shared process-wide (a curl
 * share with locks), so new connections to the same host resume TLS.
 *
 * Policy, the same for every destination:
 *   - TLS peers and host names are always verified; ca_file replaces the
 *     system bundle, never disables the check.  Only http and https.
 *   - HTTPS_PROXY / https_proxy / NO_PROXY are honoured by libcurl itself.
 *   - timeout_us is a stall timeout: a request fails with PGA_ETIMEOUT when
 *     no byte moved in either direction for that long (a large upload under
 *     a rate limit may take longer than that in total).  Connecting has its
 *     own limit, min(timeout, 10 s).
 *   - Request bodies stream from a file descriptor (pread, so one open file
 *     can serve several requests) or a buffer, through the destination's
 *     token bucket.  curl may rewind them to resend on a dead reused
 *     connection.
 *   - Nothing secret is ever logged: log lines carry method, scheme, host
 *     and path, never the query string (it may hold a SAS token) nor any
 *     header.  Transport errors name the host, never credentials.
 *
 * Results: http_do() returns 0 when a response arrived, whatever its status
 * (the caller interprets it), or PGA_ENET / PGA_ETIMEOUT for transport
 * failures, PGA_EREMOTE for TLS verification failures, PGA_ECANCEL when
 * cancel() said so, or the error a sink returned.  Response bodies of 2xx
 * answers go to the sink when one is given; otherwise (and always for
 * other statuses) the first HTTP_BODY_MAX bytes are kept in the response.
 */
#ifndef PGA_HTTP_H
#define PGA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ship/ratelimit.h"

#define HTTP_BODY_MAX 16384
#define HTTP_HDRS_MAX 8192

struct http_client;

struct http_config {
	const char *ca_file;		/* CA bundle, or NULL for the system one */
	int64_t timeout_us;		/* stall timeout; 0: 60 s */
	const char *what;		/* "dest 'name'", for log lines */
};

typedef int (*http_sink_fn)(void *ctx, const void *buf, size_t len,
			    struct pga_err *err);
typedef bool (*http_cancel_fn)(void *ctx);

struct http_request {
	const char *method;		/* GET HEAD PUT POST DELETE */
	const char *url;
	const char *const *headers;	/* "Name: value" lines */
	size_t nheaders;
	/* body: a buffer, or body_fd when body_from_fd; body_len bytes */
	const void *body;
	int body_fd;
	bool body_from_fd;
	uint64_t body_len;
	struct ratelimit *rl;		/* may be NULL */
	http_cancel_fn cancel;		/* may be NULL */
	void *cancel_ctx;
	http_sink_fn sink;		/* body of a 2xx answer; may be NULL */
	void *sink_ctx;
};

struct http_response {
	long status;
	char body[HTTP_BODY_MAX];	/* NUL-terminated, possibly cut */
	size_t body_len;
	bool body_cut;
	char headers[HTTP_HDRS_MAX];	/* "name: value\n", names lowercased */
	size_t headers_len;
	int64_t elapsed_us;
};

int http_client_new(struct http_client **out, const struct http_config *cfg,
		    struct pga_err *err);
void http_client_free(struct http_client *c);

int http_do(struct http_client *c, const struct http_request *rq,
	    struct http_response *rs, struct pga_err *err);

/* Value of a response header (name in lowercase) copied into buf, or NULL. */
const char *http_header(const struct http_response *rs, const char *name,
			char *buf, size_t cap);

/* "scheme://host/path" of url without query or credentials, for messages. */
void http_url_for_log(const char *url, char *buf, size_t cap);

#endif
