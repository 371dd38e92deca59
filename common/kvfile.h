/*
 * kvfile.h - the small "key value" state files the parts keep
 *
 * A collector's cycle numbers (collect/cstate.c), a csvlog position
 * (collect/csvlog.c), a destination's shipping state (ship/ship_state.c),
 * the spool's counters (spool/spool_dir.c): one format, one reader, one
 * writer.
 *
 * Format: one pair a line, "key value\n": the key runs to the first space
 * and is [A-Za-z0-9_.-]+, the value is the rest of the line (it may hold
 * spaces; a value written never holds a newline: kv_put_str turns CR and LF
 * into spaces).  Numbers are decimal, u64 without a sign, i64 with an
 * optional '-', nothing after the digits.
 *
 * Reading is tolerant and says so: an unknown key and an empty line are
 * skipped (a newer pga's file), and a line that is not a pair, or a value that is not of its
 * field's type, leaves the field as it was and is counted, so the caller
 * decides: refuse the file (the spool's counters) or warn and go on with
 * what was readable (cycle numbers, positions: the worst case is work done
 * again).  Writing builds the text in a capped dynbuf and replaces the file
 * atomically (pga_write_file_atomic: temp file, fsync, rename, directory
 * fsync), so a reader sees the old file or the new one, never a mix.
 *
 * No state; thread-safe as long as each caller owns its text and fields.
 */
#ifndef PGA_KVFILE_H
#define PGA_KVFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/dynbuf.h"
#include "common/err.h"

/* The largest state file read or written whole. */
#define KVFILE_MAX 8192

enum kv_type { KVT_U64, KVT_I64, KVT_BOOL, KVT_STR };

/* One field: its key, its type and where it lives (size: KVT_STR's array). */
struct kv_field {
	const char *key;
	enum kv_type type;
	void *p;
	size_t size;
};

#define KV_U64(k, ptr) { (k), KVT_U64, (ptr), sizeof(uint64_t) }
#define KV_I64(k, ptr) { (k), KVT_I64, (ptr), sizeof(int64_t) }
#define KV_BOOL(k, ptr) { (k), KVT_BOOL, (ptr), sizeof(bool) }
#define KV_STR(k, arr) { (k), KVT_STR, (arr), sizeof(arr) }

/* Called for each pair; returns false when the value is not acceptable. */
typedef bool (*kv_fn)(void *ctx, const char *key, const char *value);

/*
 * Split text (modified in place) into pairs and give each to fn.  Returns
 * the number of malformed lines (not a pair, or refused by fn); *first_bad
 * (may be NULL) is the 1-based number of the first, 0 when none.
 */
unsigned kv_parse(char *text, kv_fn fn, void *ctx, unsigned *first_bad);

/* kv_parse() into a table of n fields; unknown keys are skipped. */
unsigned kv_parse_fields(char *text, const struct kv_field *f, size_t n,
			 unsigned *first_bad);

/* Strict numbers (see above): true and *out set, or false. */
bool kv_u64(const char *s, uint64_t *out);
bool kv_i64(const char *s, int64_t *out);

/* Append one pair; failures stay in b (dynbuf's sticky failure). */
void kv_put_u64(struct dynbuf *b, const char *key, uint64_t v);
void kv_put_i64(struct dynbuf *b, const char *key, int64_t v);
void kv_put_str(struct dynbuf *b, const char *key, const char *v);
/* Every field of the table, in its order. */
void kv_put_fields(struct dynbuf *b, const struct kv_field *f, size_t n);

/* Check b (it names path when it overflowed) and replace path with it. */
int kv_save(const char *path, const struct dynbuf *b, mode_t mode, struct pga_err *err);

#endif
