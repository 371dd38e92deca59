/*
 * azure_auth.h - Azure Storage Shared Key signing
 *
 * Builds the string to sign for the Blob service (version 2015-02-21 and
 * later: verb, standard headers with Content-Length empty when zero,
 * canonicalized x-ms-* headers, canonicalized resource /account/path plus
 * sorted lowercase query parameters) and returns "SharedKey account:sig".
 * Pure and thread-safe; the decoded account key is wiped after use.
 * Tested against published Shared Key values and azurite.
 */
#ifndef PGA_AZURE_AUTH_H
#define PGA_AZURE_AUTH_H

#include <stddef.h>

#include "common/err.h"

struct azure_header {
	const char *name;
	const char *value;
};

struct azure_request {
	const char *method;
	const char *account;		/* storage account name */
	const char *path;		/* URL path as sent, e.g. "/devstoreaccount1/c/blob" */
	const char *query;		/* raw query without '?', or NULL */
	const struct azure_header *headers;	/* all request headers */
	size_t nheaders;
};

int azure_sharedkey_sign(const struct azure_request *req,
			 const char *account_key_b64, char *string_to_sign,
			 size_t sts_cap, char *authorization, size_t auth_cap,
			 struct pga_err *err);

#endif
