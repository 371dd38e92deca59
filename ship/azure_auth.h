/*
 * azure_auth.h - Azure Storage Shared Key signing
 *
 * Builds the string to sign for the Blob service (version 2015-02-21 and
 * later: verb, standard headers with Content-Length empty when zero,
 * canonicalized x-ms-* headers, canonicalized resource /account/path plus
 * sorted lowercase query parameters) and returns "SharedKey account:sig".
 * Pure and thread-safe; the decoded account key is wiped after use.
 * Tested against published Shared Key values and azurite.
 *
 * Details the caller must know:
 *   - path is the URL path exactly as sent (already percent-encoded); the
 *     resource line is "/" + account + path.  With path-style URLs (azurite,
 *     http://127.0.0.1:PORT/devstoreaccount1/c/b) the account therefore
 *     appears twice: "/devstoreaccount1/devstoreaccount1/c/b".  That is what
 *     the service expects, so pass the path as sent and nothing else.
 *   - The standard headers (Content-Encoding ... Range) are looked up by
 *     case-insensitive name; absent ones are empty lines, Content-Length "0"
 *     too.  Use x-ms-date (Date may stay absent).
 *   - x-ms-* headers are sorted by lowercase name in byte order, values
 *     trimmed; a name given twice is PGA_EINVAL.
 *   - Query names are lowercased, names and values percent-decoded once,
 *     sorted, repeated names joined as "name:v1,v2".
 * Limits: AZURE_MAX_HEADERS headers, AZURE_MAX_PARAMS parameters, a query
 * of at most AZURE_QUERY_MAX bytes, a string to sign of AZURE_STS_MAX.
 */
#ifndef PGA_AZURE_AUTH_H
#define PGA_AZURE_AUTH_H

#include <stddef.h>

#include "common/err.h"
#include "ship/sign.h"

struct azure_request {
	const char *method;
	const char *account;		/* storage account name */
	const char *path;		/* URL path as sent, e.g. "/devstoreaccount1/c/blob" */
	const char *query;		/* raw query without '?', or NULL */
	const struct sign_header *headers;	/* all request headers */
	size_t nheaders;
};

#define AZURE_MAX_HEADERS 64
#define AZURE_MAX_PARAMS 64
#define AZURE_QUERY_MAX 8192
#define AZURE_STS_MAX 16384
#define AZURE_AUTH_MAX 256

/* string_to_sign and authorization may be NULL. */
int azure_sharedkey_sign(const struct azure_request *req,
			 const char *account_key_b64, char *string_to_sign,
			 size_t sts_cap, char *authorization, size_t auth_cap,
			 struct pga_err *err);

/* base64(HMAC-SHA256(base64decode(key), string_to_sign)) into sig_b64
 * (45 bytes suffice): the Shared Key signature, also used for SAS. */
int azure_sign_string(const char *string_to_sign, const char *account_key_b64,
		      char *sig_b64, size_t cap, struct pga_err *err);

#endif
