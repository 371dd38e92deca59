/* "key value" state files; the contract is in kvfile.h. */
#include "common/kvfile.h"

#include <inttypes.h>
#include <string.h>

#include "common/fsutil.h"

static bool
key_valid(const char *k)
{
	size_t n = strspn(k, "abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	return n > 0 && k[n] == '\0';
}

unsigned
kv_parse(char *text, kv_fn fn, void *ctx, unsigned *first_bad)
{
	unsigned bad = 0, line = 0;
	char *p = text;

	if (first_bad != NULL)
		*first_bad = 0;
	while (*p != '\0') {
		char *end = p + strcspn(p, "\n"), *sp;
		bool ok;

		line++;
		if (*end != '\0')
			*end++ = '\0';
		if (*p == '\0') {	/* an empty line says nothing */
			p = end;
			continue;
		}
		sp = strchr(p, ' ');
		if (sp != NULL)
			*sp = '\0';
		ok = sp != NULL && key_valid(p) && fn(ctx, p, sp + 1);
		if (!ok && bad++ == 0 && first_bad != NULL)
			*first_bad = line;
		p = end;
	}
	return bad;
}

bool
kv_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

bool
kv_i64(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v;

	if (!kv_u64(s + neg, &v) || v > (uint64_t)INT64_MAX + neg)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

struct fields {
	const struct kv_field *f;
	size_t n;
};

static bool
set_field(void *ctx, const char *key, const char *value)
{
	const struct fields *fs = ctx;

	for (size_t i = 0; i < fs->n; i++) {
		const struct kv_field *f = &fs->f[i];

		if (strcmp(f->key, key) != 0)
			continue;
		switch (f->type) {
		case KVT_U64:
			return kv_u64(value, f->p);
		case KVT_I64:
			return kv_i64(value, f->p);
		case KVT_BOOL:
			if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
				return false;
			*(bool *)f->p = value[0] == '1';
			return true;
		case KVT_STR:
			if (strlen(value) >= f->size)
				return false;	/* never a cut value */
			memcpy(f->p, value, strlen(value) + 1);
			return true;
		}
	}
	return true;	/* a key this pga does not know */
}

unsigned
kv_parse_fields(char *text, const struct kv_field *f, size_t n, unsigned *first_bad)
{
	struct fields fs = {f, n};

	return kv_parse(text, set_field, &fs, first_bad);
}

void
kv_put_u64(struct dynbuf *b, const char *key, uint64_t v)
{
	dynbuf_addf(b, "%s %" PRIu64 "\n", key, v);
}

void
kv_put_i64(struct dynbuf *b, const char *key, int64_t v)
{
	dynbuf_addf(b, "%s %" PRId64 "\n", key, v);
}

void
kv_put_str(struct dynbuf *b, const char *key, const char *v)
{
	dynbuf_adds(b, key);
	dynbuf_addc(b, ' ');
	for (; *v; v++)		/* one line per key */
		dynbuf_addc(b, *v == '\n' || *v == '\r' ? ' ' : *v);
	dynbuf_addc(b, '\n');
}

void
kv_put_fields(struct dynbuf *b, const struct kv_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (f[i].type) {
		case KVT_U64:
			kv_put_u64(b, f[i].key, *(const uint64_t *)f[i].p);
			break;
		case KVT_I64:
			kv_put_i64(b, f[i].key, *(const int64_t *)f[i].p);
			break;
		case KVT_BOOL:
			kv_put_str(b, f[i].key, *(const bool *)f[i].p ? "1" : "0");
			break;
		case KVT_STR:
			kv_put_str(b, f[i].key, f[i].p);
			break;
		}
	}
}

int
kv_save(const char *path, const struct dynbuf *b, mode_t mode, struct pga_err *err)
{
	if (dynbuf_check(b, "state file", err) < 0)
		return pga_err_prefix(err, "'%s'", path);
	return pga_write_file_atomic(path, dynbuf_str(b), dynbuf_len(b), mode, err);
}
