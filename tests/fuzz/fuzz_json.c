/*
 * libFuzzer target: ship/json_field.c, the strict reader of service-account
 * key files and OAuth token answers.  Every key of both is asked for, as a
 * string (into a buffer of varying size) and as an integer; a success must
 * leave a NUL-terminated string within the buffer.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ship/json_field.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"type", "client_email", "private_key", "token_uri", "access_token",
		"expires_in", "error", "error_description", "", "a",
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
	free(json);
	return 0;
}
