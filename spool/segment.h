/*
 * segment.h - one spool segment file: writing, reading, verifying
 *
 * The format is specified in spool/FORMAT.md; this module is its only
 * implementation.  It knows nothing about spool directories, quotas or
 * locking (that is spool.h): a writer appends to one file it was given, a
 * reader consumes bytes from a callback, so the same reader serves files,
 * tar entries and HTTP bodies.
 *
 * Ownership: every object returned through an out-pointer belongs to the
 * caller and is released with its _free function; strings inside metadata
 * structs belong to the struct.  Objects are not thread-safe: one thread
 * uses one writer or reader at a time.
 *
 * Errors: functions return 0 or a negative PGA_E* code and fill err.  Reader
 * errors use distinct classes (PGA_EFORMAT, PGA_ETRUNC, PGA_ECHECKSUM,
 * PGA_ECORRUPT, PGA_EVERSION) and the message names the segment, the block
 * and the byte offset.
 */
#ifndef PGA_SEGMENT_H
#define PGA_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/edkey.h"
#include "common/xkey.h"

#define SEG_FORMAT_MAJOR 1
/*
 * The minor version this pga writes, and the newest it reads field by
 * field (a higher one's appended fields are skipped).  Minor 1: block
 * headers carry column descriptors (seg_col_desc).  Minor 2: the segment
 * header carries the envelope fields (FORMAT.md "Encryption").  Readers
 * test "minor >= N", never equality, so later minors keep earlier fields.
 */
#define SEG_FORMAT_MINOR 2
#define SEG_MINOR_DESCRIBED 1	/* first minor with column descriptors */
#define SEG_MINOR_ENVELOPE 2	/* first minor with the envelope fields */
#define SEG_SKIPPABLE_BASE 0x184D2A50u
#define SEG_ZSTD_MAGIC 0xFD2FB528u

enum seg_kind {
	SEG_KIND_HEADER = 0,
	SEG_KIND_BLOCK = 1,
	SEG_KIND_TRAILER = 2,
	SEG_KIND_SEALED = 3,		/* a chunk of an encrypted data frame */
	SEG_KIND_SIGNATURE = 14,
	SEG_KIND_FOOTER = 15,
};

/* header flags: encrypted means the data frames are sealed chunks and the
 * header holds the envelope; signed means a signature frame follows the
 * footer */
#define SEG_FLAG_ENCRYPTED 0x1u
#define SEG_FLAG_SIGNED 0x2u
#define SEG_KNOWN_FLAGS (SEG_FLAG_SIGNED | SEG_FLAG_ENCRYPTED)

/* the envelope (FORMAT.md "Encryption") */
#define SEG_CIPHER_X25519_AES256GCM 1	/* the one suite */
#define SEG_MAX_RECIPIENTS 16
#define SEG_CHUNK_MAX (64u * 1024)	/* plaintext (zstd bytes) per sealed chunk */
#define SEG_CHUNK_OVERHEAD (4 + 1 + PGA_X_KEYCHECK_LEN + PGA_X_TAG_LEN)
#define SEG_CHUNK_LAST 0x1u
/*
 * Bits 1-7 of a chunk's flags: the writer's retry number, in the nonce too.
 * An aborted block is cut off and written again under the same block
 * number; the retry number keeps the second attempt's nonces apart from
 * the first's.  When it is spent the spool seals and starts a segment.
 */
#define SEG_CHUNK_RETRY_SHIFT 1
#define SEG_CHUNK_RETRY_MAX 127

/* footer flags */
#define SEG_FOOTER_RECOVERED 0x1u

#define SEG_MAX_BLOCKS 65536
#define SEG_MAX_COLS 1024
#define SEG_MAX_META (1u << 20)
#define SEG_MAX_FOOTER (8u << 20)
#define SEG_NAME_MAX 160	/* relative segment name */
#define SEG_METRIC_MAX 63
#define SEG_TYPE_MAX 31		/* a column descriptor's type name, bytes */

/*
 * What a column is for (FORMAT.md "Column descriptors"): the central side
 * builds typed tables and delta views from these, not from a catalog.
 */
enum seg_col_role {
	SEG_ROLE_INFO = 0,	/* descriptive: text, times, anything not differenced */
	SEG_ROLE_KEY = 1,	/* identifies a series (datid, relid, queryid, ...) */
	SEG_ROLE_COUNTER = 2,	/* cumulative: deltas are computed centrally */
	SEG_ROLE_GAUGE = 3,	/* a level (sizes, ages, counts right now) */
	SEG_ROLE_RESET = 4,	/* changes when the counters were reset (stats_reset) */
};
#define SEG_ROLE_LAST SEG_ROLE_RESET

/* A column's central type (a name of the closed list, seg_col_type_valid) and role. */
struct seg_col_desc {
	const char *type;
	uint8_t role;		/* enum seg_col_role */
};

/* block flags (minor 1) */
#define SEG_BLOCK_PER_DATABASE 0x1u	/* the metric is collected once per database */
#define SEG_BLOCK_KNOWN_FLAGS SEG_BLOCK_PER_DATABASE

/* One recipient of an encrypted segment's data key. */
struct seg_recipient {
	uint8_t key_id[PGA_X_KEYID_LEN];	/* SHA-256 of its raw X25519 public key */
	uint8_t eph[PGA_X_RAW_LEN];		/* the ephemeral public key */
	uint16_t wrapped_len;			/* PGA_X_WRAPPED_LEN in a sound header */
	uint8_t wrapped[PGA_X_WRAPPED_LEN];
};

struct seg_header {
	uint16_t major, minor;
	uint32_t flags;
	uint64_t seq;
	int64_t created_us;
	uint8_t prev_sha256[PGA_SHA256_LEN];
	char collector[65];
	char hostname[256];
	char writer[64];
	/* minor >= SEG_MINOR_ENVELOPE: the envelope (nrecip 0: not encrypted) */
	uint16_t nrecip;
	uint16_t cipher;
	uint8_t keycheck[PGA_X_KEYCHECK_LEN];
	struct seg_recipient recip[SEG_MAX_RECIPIENTS];
	/* SHA-256 of the header payload before the envelope fields: what each
	 * wrapped data key is bound to (computed, not stored) */
	uint8_t env_aad[PGA_SHA256_LEN];
};

/* What a block header says.  cols points into memory owned by the struct's
 * producer (the caller for writers, the reader for readers). */
struct seg_block_meta {
	uint32_t block_no;
	int64_t snapshot_us;
	uint64_t sysid;
	uint32_t server_version;
	uint16_t port;
	char metric[SEG_METRIC_MAX + 1];
	char target[65];
	char host[256];
	char database[256];		/* 63 bytes escaped as \xNN fit (common/utf8.h) */
	uint16_t ncols;
	const char **cols;
	/*
	 * Minor 1: ncols descriptors in column order, or NULL when the block
	 * has none (a minor 0 segment, or a writer that knows no types: the
	 * loader then takes its columns as text).  flags: SEG_BLOCK_*.
	 */
	const struct seg_col_desc *desc;
	uint8_t flags;
};

struct seg_block_trailer {
	uint32_t block_no;
	uint64_t rows;
	uint64_t raw_bytes;
	uint64_t frame_bytes;
	uint32_t frame_crc;
};

struct seg_index_entry {
	uint64_t offset;
	uint64_t rows;
	int64_t snapshot_us;
	char metric[SEG_METRIC_MAX + 1];
};

struct seg_footer {
	uint32_t flags;
	uint32_t nblocks;
	uint64_t total_rows;
	uint64_t total_raw;
	int64_t min_snapshot_us;
	int64_t max_snapshot_us;
	uint64_t torn_bytes;
	uint8_t sha256[PGA_SHA256_LEN];	/* of the bytes before the footer */
	struct seg_index_entry *index;	/* nblocks entries, owned */
};

/*
 * The signature frame (FORMAT.md "Signature"): Ed25519 by the key whose id
 * (SHA-256 of the raw public key) it names, over the footer's SHA-256.
 * The reader checks its structure; checking the signature needs the public
 * key, which is the caller's (seg_signature_check).
 */
struct seg_signature {
	uint16_t alg;			/* PGA_SIGN_ALG_ED25519 */
	uint8_t key_id[PGA_SIGN_KEYID_LEN];
	uint8_t sig[PGA_SIGN_SIG_LEN];
};

/* ---- names ---- */

/* "<collector>/<yyyy>/<mm>/<dd>/<seq:016x>-<yyyymmddThhmmssZ>.pga.zst" */
int seg_name_format(char *buf, size_t cap, const char *collector, uint64_t seq,
		    int64_t created_us, struct pga_err *err);
/* Parse a relative name (or any path ending in one); out fields may be NULL. */
int seg_name_parse(const char *name, char *collector, size_t ccap,
		   uint64_t *seq, int64_t *created_us);

/*
 * Name and contents must agree (FORMAT.md "Names"): when name (a relative
 * name or any path) ends in a segment name, that name must be exactly the
 * one the header's collector, seq and creation time give.  0 when they
 * agree or when name claims nothing (not named like a segment: a part
 * file, "/proc/self/fd/5"); PGA_ECORRUPT naming both otherwise.  Every
 * reader entry point (seg_reader_open, seg_verify_*, seg_peek_file,
 * seg_read_footer_file) applies it to the name or path it is given.
 */
int seg_name_check(const char *name, const struct seg_header *h,
		   struct pga_err *err);

/* ---- strings (FORMAT.md "Strings") ---- */

/*
 * A collector id: [A-Za-z0-9_][A-Za-z0-9._-]{0,63}, what the configuration
 * accepts (pga_name_valid): never ".", ".." or an option.
 */
bool seg_collector_valid(const char *id);
/* A metric name: [a-z][a-z0-9_]{0,62}. */
bool seg_metric_valid(const char *name);
/*
 * A column name a central table can hold: [A-Za-z_][A-Za-z0-9_]{0,62}, and
 * none of PostgreSQL's system column names (tableoid, xmin, cmin, xmax,
 * cmax, ctid) nor the names of the block's constant fields in the central
 * tables (collector_id, server_id, snapshot_time, dbname).  The one rule
 * for `pga spool put` and the loader, which drops any other column.
 */
bool seg_column_valid(const char *name);
/*
 * A metric name reserved for the central schema's own objects (its tables,
 * views, and names ending in _delta, _series or _pYYYYMMDD).  pga's own
 * catalog metrics are exempt; custom metrics may not use these names.
 */
bool seg_metric_reserved(const char *name);
/*
 * A column descriptor's type: one of a closed list of PostgreSQL type
 * names (bigint integer smallint numeric real "double precision" boolean
 * text timestamptz date interval oid pg_lsn inet jsonb bytea uuid), or one
 * of them followed by "[]".  These strings become DDL centrally: nothing
 * else is ever accepted.
 */
bool seg_col_type_valid(const char *type);
/* "counter" for SEG_ROLE_COUNTER...; NULL for an unknown role. */
const char *seg_col_role_name(uint8_t role);
/* "key", "counter", "gauge", "reset", "info" (or "text"): 0 and *role, or -1. */
int seg_col_role_parse(const char *name, uint8_t *role);
/*
 * A block's descriptors (when it has them): a type of the list and a known
 * role for every column.  PGA_ECORRUPT naming `name` and the column.
 */
int seg_block_desc_check(const struct seg_block_meta *m, const char *name,
			 struct pga_err *err);
/* len bytes of well-formed UTF-8 (no overlongs, surrogates or NUL). */
bool seg_utf8_valid(const void *buf, size_t len);
/* "text": well-formed UTF-8 without control characters (C0, DEL, C1). */
bool seg_text_valid(const char *s);
/* Names are printed through utf8_text() (common/utf8.h). */

/*
 * Incremental check of a block's CSV against what the loader can load:
 * exactly ncols fields on every row, well-formed UTF-8 without NUL bytes,
 * no carriage return outside quotes (COPY would take it for a line end).
 * Quotes follow COPY's csv rules (a quote toggles quoting anywhere).
 */
struct seg_csv_check {
	uint16_t ncols;
	uint32_t seps;		/* separators on the current row */
	bool in_quotes, row_open;
	uint8_t u8_need;	/* UTF-8 continuation bytes still expected */
	uint32_t u8_cp, u8_min;
	uint64_t row;		/* 1-based row being read */
	uint64_t bytes;		/* bytes seen so far */
};

void seg_csv_check_init(struct seg_csv_check *c, uint16_t ncols);
/* 0, or PGA_EINVAL naming the row and what is wrong with it. */
int seg_csv_check_feed(struct seg_csv_check *c, const void *buf, size_t len,
		       struct pga_err *err);
int seg_csv_check_end(struct seg_csv_check *c, struct pga_err *err);

/* ---- CSV row counting (quote-aware), shared by writer and reader ---- */

struct csv_counter {
	uint64_t rows;
	bool in_quotes;
	char last;	/* last byte seen, to know whether a final newline is missing */
};

void csv_count(struct csv_counter *c, const void *buf, size_t len);

/* ---- writer ---- */

struct seg_writer;

/*
 * Create part_path (O_EXCL) and write the header.  The file is not durable
 * until seg_writer_seal().
 */
int seg_writer_create(struct seg_writer **out, const char *part_path,
		      const struct seg_header *h, struct pga_err *err);
/*
 * The same, encrypted to nto recipients (1 to SEG_MAX_RECIPIENTS; none:
 * seg_writer_create): a fresh data key wrapped for each goes into the
 * header, and every block's data frame is sealed in chunks as it is
 * written (FORMAT.md "Encryption").  The writer keeps no key but the data
 * key's cipher context, freed with it; the keys are the caller's.
 */
int seg_writer_create_to(struct seg_writer **out, const char *part_path,
			 const struct seg_header *h, const struct pga_xpub *const *to,
			 size_t nto, struct pga_err *err);
int seg_writer_block_begin(struct seg_writer *w, const struct seg_block_meta *m,
			   struct pga_err *err);
/*
 * A block header checked and encoded ahead of its block, away from the
 * writer (and the lock that guards it): appended to *buf (*len bytes used
 * of *cap, grown with malloc), numbered 0.  name is for messages.
 * seg_writer_block_begin_encoded() then begins the block as
 * seg_writer_block_begin() would with m: the same bytes, numbered there.
 * Only for a segment of this pga's own minor (every segment it begins).
 */
int seg_block_encode(const struct seg_block_meta *m, uint8_t **buf, size_t *len,
		     size_t *cap, const char *name, struct pga_err *err);
int seg_writer_block_begin_encoded(struct seg_writer *w, const void *hdr, size_t len,
				   struct pga_err *err);
/* Append bytes of the block's zstd frame (already compressed). */
int seg_writer_data(struct seg_writer *w, const void *buf, size_t len,
		    struct pga_err *err);
int seg_writer_block_end(struct seg_writer *w, uint64_t rows, uint64_t raw_bytes,
			 struct pga_err *err);
/* Drop the block being written: the file goes back to where it began. */
int seg_writer_block_abort(struct seg_writer *w, struct pga_err *err);
/*
 * Hold: from here complete blocks stay in the writer's buffer (256 KiB;
 * what does not fit is written as it comes) instead of each being written
 * at its end, until seg_writer_release(): many blocks, one write(2).  Until
 * then a killed process loses the held blocks (the part file ends, whole,
 * before them); a reader of the part never sees half of the hold but as a
 * torn tail, which salvage cuts off.  keep: write them; when that fails,
 * or !keep, every block since the hold is cut off again (block numbers,
 * totals, hash, file) and *dropped says how many; encrypted, the retry
 * number rises (their sealed chunks may be on disk).  A seal during a hold
 * seals the held blocks with the rest and ends it.
 */
int seg_writer_hold(struct seg_writer *w, struct pga_err *err);
/*
 * Every complete block so far durable in the part file: written, fdatasync'd,
 * and (once per part) its directory fsync'd, so a power cut keeps them for
 * salvage.  Not during a hold or a block.
 */
int seg_writer_sync(struct seg_writer *w, struct pga_err *err);
int seg_writer_release(struct seg_writer *w, bool keep, uint32_t *dropped,
		       struct pga_err *err);
/*
 * Write the footer, fsync, rename to final_path (its directory must exist),
 * fsync that directory.  file_sha receives the SHA-256 of the whole file
 * (the next segment's prev hash).  The writer is finished afterwards.
 */
int seg_writer_seal(struct seg_writer *w, uint32_t footer_flags,
		    uint64_t torn_bytes, const char *final_path,
		    uint8_t file_sha[PGA_SHA256_LEN], struct pga_err *err);
/*
 * The same in two steps, so that the spool can count the segment between
 * them (spool.c): finish writes the footer and fsyncs the part (on failure
 * the footer is cut off again, the part stays salvageable); publish renames
 * it to final_path and fsyncs that directory.
 */
int seg_writer_finish(struct seg_writer *w, uint32_t footer_flags,
		      uint64_t torn_bytes, uint8_t file_sha[PGA_SHA256_LEN],
		      struct pga_err *err);
int seg_writer_publish(struct seg_writer *w, const char *final_path,
		       struct pga_err *err);
/* Rows and uncompressed bytes of the complete blocks written so far. */
void seg_writer_totals(const struct seg_writer *w, uint64_t *rows,
		       uint64_t *raw_bytes);
/*
 * The key that signs the segment at seal (not owned; it must outlive the
 * writer).  A header with SEG_FLAG_SIGNED cannot be sealed without one.
 */
void seg_writer_set_signer(struct seg_writer *w, const struct pga_signkey *k);
/* Close without sealing; unlink the part file when discard is true. */
void seg_writer_free(struct seg_writer *w, bool discard);

/* Its size, what it holds in memory included (a hold: seg_writer_hold). */
uint64_t seg_writer_size(const struct seg_writer *w);
/* What of it is in the file (what a directory scan sees). */
uint64_t seg_writer_written(const struct seg_writer *w);
uint32_t seg_writer_nblocks(const struct seg_writer *w);
/* An encrypted segment whose next aborted block would have no retry number
 * left (SEG_CHUNK_RETRY_MAX): seal it before the next block. */
bool seg_writer_retries_spent(const struct seg_writer *w);
const struct seg_header *seg_writer_header(const struct seg_writer *w);
const char *seg_writer_path(const struct seg_writer *w);
bool seg_writer_in_block(const struct seg_writer *w);

/*
 * Reopen a part file left by a crash: keep its complete, verified blocks,
 * cut the torn tail at the end of the last one.  *torn gets the bytes cut.
 * Returns PGA_ENOTFOUND (nothing to keep: no complete block) or a reader
 * error class when even the header is unreadable.
 */
int seg_writer_recover(struct seg_writer **out, const char *part_path,
		       uint64_t *torn, struct pga_err *err);

/* ---- block compressor ---- */

typedef int (*seg_sink_fn)(void *ctx, const void *buf, size_t len,
			   struct pga_err *err);

struct seg_encoder;

/* window_log 0 keeps zstd's default for the level; with a window_log (a
 * spilled stream of mostly small blocks) levels 1-3 get small match tables. */
int seg_encoder_new(struct seg_encoder **out, int level, int window_log,
		    struct pga_err *err);
/* Start a new frame; compressed bytes go to sink as they are produced. */
void seg_encoder_begin(struct seg_encoder *e, seg_sink_fn sink, void *ctx);
int seg_encoder_write(struct seg_encoder *e, const void *buf, size_t len,
		      struct pga_err *err);
/* End the frame.  A missing final newline is added (and counted). */
int seg_encoder_finish(struct seg_encoder *e, uint64_t *rows,
		       uint64_t *raw_bytes, struct pga_err *err);
bool seg_encoder_in_quotes(const struct seg_encoder *e);
/* Compress on n extra threads (zstd's own workers), for large single streams. */
int seg_encoder_set_workers(struct seg_encoder *e, int n);
void seg_encoder_free(struct seg_encoder *e);

/* ---- reader ---- */

/*
 * The private keys readers decrypt with (decrypt-key-file), for the whole
 * process: set once by the command before any reader opens (not owned;
 * they must outlive every reader), NULL/0 for none.  A reader of an
 * encrypted segment unwraps its data key with the first key that is one of
 * its recipients, when it reads the header; with no keys at all it still
 * verifies everything but the plaintext (structure, CRCs, key checks,
 * footer, signature), refuses seg_reader_read() with PGA_EKEY, and
 * seg_reader_skip() checks the sealed chunks' structure and CRC.  With
 * keys of which none is a recipient, opening fails with PGA_EKEY naming
 * both sides' key ids.  With the key, seg_reader_skip() authenticates
 * every chunk (decrypts, discards): the loader's prescan refuses an
 * altered block before anything is written.
 */
void seg_set_decrypt_keys(const struct pga_xkey *const *keys, size_t n);
/* Whether a header says encrypted. */
bool seg_header_encrypted(const struct seg_header *h);

/* Like read(2): bytes read, 0 at end, -1 with errno on error. */
typedef ssize_t (*seg_read_fn)(void *ctx, void *buf, size_t len);

struct seg_reader;

/* Reads and verifies the header.  name is used in messages only. */
int seg_reader_open(struct seg_reader **out, seg_read_fn fn, void *ctx,
		    const char *name, struct pga_err *err);
int seg_reader_open_file(struct seg_reader **out, const char *path,
			 struct pga_err *err);
const struct seg_header *seg_reader_header(const struct seg_reader *r);
/* Whether r holds the data key of its (encrypted) segment. */
bool seg_reader_can_decrypt(const struct seg_reader *r);

/*
 * Advance to the next block: 1 and *meta set (valid until the next call),
 * 0 at the end (footer verified, nothing after it), or an error.  Data of
 * the previous block that was not read is decompressed and verified first.
 */
int seg_reader_next(struct seg_reader *r, const struct seg_block_meta **meta,
		    struct pga_err *err);
/*
 * Decompressed CSV of the current block into buf; *got == 0 means the block
 * is done and its trailer has been verified (row count included).
 */
int seg_reader_read(struct seg_reader *r, void *buf, size_t cap, size_t *got,
		    struct pga_err *err);
/*
 * Read one block out of order (the footer index gives its offset): fn now
 * reads the file from offset on.  seg_reader_next() then gives that
 * block's header, seg_reader_read() its data, verified as in order (header
 * and trailer CRCs, block number, zstd checksum, CRC32C, lengths, rows),
 * and the next seg_reader_next() returns 0 after it.  Nothing else of the
 * file is read and no file hash is kept: for a segment verified whole
 * before (the loader's prescan), whose blocks of one table are read
 * together.  r keeps its buffers; call again for another block.
 */
int seg_reader_at_block(struct seg_reader *r, seg_read_fn fn, void *ctx, uint32_t block_no,
			uint64_t offset);
/* Skip the current block's data without decompressing (CRC32C still checked). */
int seg_reader_skip(struct seg_reader *r, struct pga_err *err);
const struct seg_block_trailer *seg_reader_trailer(const struct seg_reader *r);
/* Valid after seg_reader_next() returned 0. */
const struct seg_footer *seg_reader_footer(const struct seg_reader *r);
/* The signature frame of a signed segment, else NULL; valid at the end. */
const struct seg_signature *seg_reader_signature(const struct seg_reader *r);
/* SHA-256 of the whole file; valid after seg_reader_next() returned 0. */
void seg_reader_file_sha256(const struct seg_reader *r, uint8_t out[PGA_SHA256_LEN]);
uint64_t seg_reader_offset(const struct seg_reader *r);
void seg_reader_free(struct seg_reader *r);

/* Summary of a fully verified segment. */
struct seg_info {
	struct seg_header header;
	uint32_t flags;		/* footer flags */
	uint32_t nblocks;
	uint64_t rows, raw_bytes, size, torn_bytes;
	int64_t min_snapshot_us, max_snapshot_us;
	uint8_t file_sha256[PGA_SHA256_LEN];
	uint8_t footer_sha256[PGA_SHA256_LEN];	/* what a signature signs */
	bool is_signed;
	struct seg_signature sig;	/* when is_signed */
	bool decrypted;			/* encrypted, and every block decrypted and checked */
};

/*
 * A verified segment's signature against a public key: 0 when info is
 * signed by k; PGA_ENOTFOUND unsigned; PGA_EPERM signed by another key
 * (the message names both key ids); PGA_ECHECKSUM a bad signature.
 */
int seg_signature_check(const struct seg_info *info, const struct pga_pubkey *k,
			const char *name, struct pga_err *err);
/* First 16 hex digits of a key id, for messages ("3f2a...": 17 bytes). */
const char *seg_keyid_short(const uint8_t id[PGA_SIGN_KEYID_LEN], char out[17]);

/*
 * Read just the header frame (8 + its length bytes, nothing more) and check
 * it as seg_reader_open does, name included: what an archive reader needs
 * to judge a member before copying it anywhere.
 */
int seg_read_header(seg_read_fn fn, void *ctx, const char *name,
		    struct seg_header *h, struct pga_err *err);

/* Read a whole segment, verifying everything except the chain. */
int seg_verify_stream(seg_read_fn fn, void *ctx, const char *name,
		      struct seg_info *info, struct pga_err *err);
int seg_verify_file(const char *path, struct seg_info *info, struct pga_err *err);

/*
 * The hash chain between two verified segments of one collector: next must
 * come after prev, and when it directly follows (seq + 1) its header's
 * previous-segment hash must equal prev's file SHA-256.  PGA_ECHAIN if not.
 * Returns 1 (and checks nothing) when they belong to different collectors.
 */
int seg_check_chain(const struct seg_info *prev, const struct seg_info *next,
		    const char *next_name, struct pga_err *err);

/*
 * Quick look without verifying data: header from the start, footer from the
 * end (its CRC checked).  For listings.  Does not allocate the index.
 */
int seg_peek_file(const char *path, struct seg_info *info, struct pga_err *err);

/* Read the whole footer including its index (caller frees footer->index). */
int seg_read_footer_file(const char *path, struct seg_header *h,
			 struct seg_footer *footer, struct pga_err *err);

#endif
