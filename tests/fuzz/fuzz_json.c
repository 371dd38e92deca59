/*
 * libFuzzer target: ship/json_field.c, the strict reader of service-account
 * key files and OAuth token answers.  Every key of both is asked for, as a
 * string (into a buffer of varying size) and as an integer; a success must
 * leave a NUL-terminated string within the buffer.  The same bytes then go
 * to the credential replies of ship/cloud_reply.c (IMDS/ECS JSON, OAuth
 * bearer JSON, STS XML): a success must hold terminated, non-empty fields
 * and a lifetime within a year; a failure must leave the credential wiped.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ship/cloud_cred.h"
#include "ship/json_field.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void
check_cred(int rc, const struct cloud_cred *c, bool aws)
{
	static const struct cloud_cred zero;

	if (rc < 0) {
		if (memcmp(c, &zero, sizeof(zero)) != 0)
			abort();	/* a failed parse must wipe what it read */
		return;
	}
	if (!terminated(c->id, sizeof(c->id)) || !terminated(c->secret, sizeof(c->secret)) ||
	    !terminated(c->token, sizeof(c->token)) || c->token[0] == '\0' ||
	    c->lifetime_s <= 0 || c->lifetime_s > 366 * 86400 ||
	    (aws && (c->id[0] == '\0' || c->secret[0] == '\0')))
		abort();
}

static void
check_replies(const char *json, size_t len)
{
	static struct cloud_cred c;	/* 8 KiB+: off the stack */
	char *text = malloc(len + 1);

	check_cred(cloud_parse_aws_json(json, len, 1765000000, &c, NULL), &c, true);
	check_cred(cloud_parse_bearer_json(json, len, 1765000000, &c, NULL), &c, false);
	if (text == NULL)
		return;
	memcpy(text, json, len);
	text[len] = '\0';
	check_cred(cloud_parse_sts_xml(text, 1765000000, &c, NULL), &c, true);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"type", "client_email", "private_key", "token_uri", "access_token",
		"expires_in", "error", "error_description", "", "a",
		"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "Code", "expires_on",
	};
	char *json, out[512];
	size_t cap;
	int64_t v;

	if (size < 1)
		return 0;
	cap = 1 + data[0] % sizeof(out);
	/* an exact-length copy: the reader must not look past len */
	json = malloc(size - 1 > 0 ? size - 1 : 1);
	if (json == NULL)
		return 0;
	memcpy(json, data + 1, size - 1);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		memset(out, 'X', sizeof(out));
		if (json_field_string(json, size - 1, keys[i], out, cap, NULL) == 0 &&
		    memchr(out, '\0', cap) == NULL)
			abort();
		json_field_int(json, size - 1, keys[i], &v, NULL);
	}
	check_replies(json, size - 1);
	free(json);
	return 0;
}
