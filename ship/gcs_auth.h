/*
 * gcs_auth.h - Google service-account credentials: RS256 JWT for the OAuth
 * token exchange (RFC 7523 grant), parsed from the JSON key file
 *
 * gcs_key_load() reads a service-account JSON key file (it must be mode
 * 0600 and owned by the caller, else PGA_EPERM naming the file), keeping
 * client_email, private_key (PEM) and token_uri.  gcs_jwt_assertion()
 * builds header.claims.signature (base64url) for the given scope and time.
 * The token request itself (HTTP POST of the assertion) is done by the GCS
 * destination with its HTTP client.  Private key bytes are wiped on free.
 */
#ifndef PGA_GCS_AUTH_H
#define PGA_GCS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct gcs_key;

int gcs_key_load(struct gcs_key **out, const char *path, struct pga_err *err);
const char *gcs_key_email(const struct gcs_key *k);
const char *gcs_key_token_uri(const struct gcs_key *k);
int gcs_jwt_assertion(const struct gcs_key *k, const char *scope,
		      const char *audience, int64_t now_us, char *out,
		      size_t cap, struct pga_err *err);
/* Parse {"access_token": "...", "expires_in": N} from a token response. */
int gcs_parse_token_response(const char *json, char *token, size_t cap,
			     int64_t *expires_in_s, struct pga_err *err);
void gcs_key_free(struct gcs_key *k);

#endif
