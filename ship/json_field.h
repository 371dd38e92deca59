/*
 * json_field.h - read one top-level field of a small JSON object
 *
 * Strict (RFC 8259: the whole text must be one valid object, nothing after
 * it; strings must be valid escapes, no raw control characters) and
 * bounded (at most JSON_FIELD_MAX_DEPTH levels of nesting; the caller caps
 * the input).  Enough for a service-account key file and an OAuth token
 * response, with no JSON library.  Pure and thread-safe.
 *
 * json_field_string() decodes a string value (\uXXXX including surrogate
 * pairs into UTF-8; \u0000 is refused) into out; json_field_int() reads an
 * integer value.  Both return 0, PGA_ENOTFOUND when the key is absent,
 * PGA_EFORMAT when the text is not valid JSON, the key is given twice or
 * the value has another type, PGA_EINVAL when the value does not fit.
 * Messages name the key, never its value (values may be secrets).
 */
#ifndef PGA_JSON_FIELD_H
#define PGA_JSON_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define JSON_FIELD_MAX_DEPTH 32

int json_field_string(const char *json, size_t len, const char *key,
		      char *out, size_t cap, struct pga_err *err);
int json_field_int(const char *json, size_t len, const char *key,
		   int64_t *out, struct pga_err *err);

#endif
