/*
 * trust.c - the collector registry, signature checks at load, and the
 * verification of the ledger's hash chain (SCHEMA.md "Signatures and the
 * registry", "The ledger's hash chain")
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/config.h"
#include "common/edkey.h"
#include "common/hash.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"
#include "common/utf8.h"

/* ---- at load ---- */

void
ld_keycache_free(struct loader *l)
{
	pga_pubkey_free(l->keys.pub);
	memset(&l->keys, 0, sizeof(l->keys));
}

/* The registry's row for a key id, from the cache while it is fresh. */
static int
key_lookup(struct loader *l, const uint8_t key_id[PGA_SIGN_KEYID_LEN], struct pga_err *err)
{
	struct ld_keycache *k = &l->keys;
	char kid[PGA_SHA256_HEX], sql[600];
	const char *params[1] = {kid};
	PGresult *res = NULL;
	int64_t now = pga_now_us();
	int rc;

	if (k->valid && memcmp(k->key_id, key_id, PGA_SIGN_KEYID_LEN) == 0 &&
	    now - k->fetched_us < LD_KEYCACHE_US)
		return 0;
	ld_keycache_free(l);
	pga_hex(key_id, PGA_SIGN_KEYID_LEN, kid);
	snprintf(sql, sizeof(sql), "SELECT collector, public_key,"
		 " CASE WHEN isfinite(valid_from) THEN (extract(epoch FROM valid_from) * 1000000)::bigint"
		 "  ELSE %" PRId64 " END,"
		 " CASE WHEN revoked_at IS NULL OR NOT isfinite(revoked_at) THEN %" PRId64
		 "  ELSE (extract(epoch FROM revoked_at) * 1000000)::bigint END, coalesce(revoked_at::text, '')"
		 " FROM %s.collector_keys WHERE key_id = decode($1, 'hex')",
		 INT64_MIN, INT64_MAX, l->qschema);
	rc = ld_exec(l, sql, 1, params, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) > 0) {
		const char *pem = PQgetvalue(res, 0, 1);

		rc = pga_pubkey_parse(&k->pub, pem, strlen(pem), "registered key", err);
		strlcpy(k->collector, PQgetvalue(res, 0, 0), sizeof(k->collector));
		k->valid_from_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		k->revoked_us = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		strlcpy(k->revoked_text, PQgetvalue(res, 0, 4), sizeof(k->revoked_text));
		k->found = true;
	}
	PQclear(res);
	if (rc < 0) {
		ld_keycache_free(l);
		return rc;
	}
	memcpy(k->key_id, key_id, PGA_SIGN_KEYID_LEN);
	k->fetched_us = now;
	k->valid = true;
	return 0;
}

int
ld_check_signature(struct loader *l, const struct ld_job *j, struct pga_err *err)
{
	const struct ld_keycache *k = &l->keys;
	char kshort[17], ts[40];
	struct seg_info info = {0};
	int rc;

	if (!j->is_signed)
		return pga_fail(err, PGA_EPERM, "'%s': not signed, and require-signature is on",
				j->qname);
	seg_keyid_short(j->sig.key_id, kshort);
	rc = key_lookup(l, j->sig.key_id, err);
	if (rc < 0)
		return rc;
	pga_format_time(j->h.created_us, ts, sizeof(ts));
	if (!k->found)
		return pga_fail(err, PGA_EPERM, "'%s': signed by key %s, which is not registered "
				"(pga collectors add)", j->qname, kshort);
	if (strcmp(k->collector, j->h.collector) != 0)
		return pga_fail(err, PGA_EPERM, "'%s': signed by key %s, which is registered to "
				"collector '%s', not '%s'", j->qname, kshort, k->collector,
				j->h.collector);
	if (j->h.created_us < k->valid_from_us)
		return pga_fail(err, PGA_EPERM, "'%s': created before key %s of '%s' was valid",
				j->qname, kshort, j->h.collector);
	if (j->h.created_us >= k->revoked_us)
		return pga_fail(err, PGA_EPERM, "'%s': signed by key %s of '%s', revoked from %s;"
				" the segment was created at %s", j->qname, kshort, j->h.collector,
				k->revoked_text, ts);
	info.is_signed = true;
	info.sig = j->sig;
	memcpy(info.footer_sha256, j->f.sha256, PGA_SHA256_LEN);
	rc = seg_signature_check(&info, k->pub, j->qname, err);
	if (rc < 0)
		err->code = rc = PGA_EPERM;
	return rc;
}

/* ---- the registry ---- */

static const char *
esc(const char *s, char *buf, size_t cap)
{
	utf8_escape_text(s, buf, cap);
	return buf;
}

static int
open_loader(struct loader **l, const struct load_opts *o, struct pga_err *err)
{
	struct load_opts lo = {.conninfo = o->conninfo, .schema = o->schema,
			       .since = INT64_MIN, .until = INT64_MAX};

	return loader_open(l, &lo, err);
}

int
load_registry_add(const struct load_opts *o, const char *id, const char *pubkey_file,
		  const char *environment, const char *group, const char *description,
		  FILE *out, struct pga_err *err)
{
	struct pga_pubkey *pub = NULL;
	struct loader *l = NULL;
	char kid[PGA_SHA256_HEX], sql[1024];
	PGresult *res = NULL;
	int rc;

	if (!pga_name_valid(id))
		return pga_fail(err, PGA_EINVAL, "invalid collector id '%s'", id);
	rc = pga_pubkey_load(&pub, pubkey_file, err);
	if (rc == 0)
		rc = open_loader(&l, o, err);
	if (rc < 0)
		goto out;
	pga_hex(pga_pubkey_id(pub), PGA_SIGN_KEYID_LEN, kid);
	{
		const char *params[6] = {id, environment, group, description, kid,
					 pga_pubkey_pem(pub)};

		snprintf(sql, sizeof(sql),
			 "BEGIN; LOCK TABLE %s.collector_keys IN SHARE ROW EXCLUSIVE MODE", l->qschema);
		rc = ld_exec(l, sql, 0, NULL, NULL, err);
		if (rc == 0) {
			snprintf(sql, sizeof(sql), "SELECT collector FROM %s.collector_keys"
				 " WHERE key_id = decode($1, 'hex')", l->qschema);
			rc = ld_exec(l, sql, 1, params + 4, &res, err);
		}
		if (rc == 0 && PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), id) != 0)
			rc = pga_fail(err, PGA_ECONFLICT, "key %.16s is registered to collector "
				      "'%s' already: one key, one collector", kid, PQgetvalue(res, 0, 0));
		PQclear(res);
		if (rc == 0) {
			snprintf(sql, sizeof(sql), "INSERT INTO %s.registered_collectors (collector,"
				 " environment, collector_group, description) VALUES ($1, $2, $3, $4)"
				 " ON CONFLICT (collector) DO UPDATE SET"
				 " environment = coalesce(EXCLUDED.environment, registered_collectors.environment),"
				 " collector_group = coalesce(EXCLUDED.collector_group, registered_collectors.collector_group),"
				 " description = coalesce(EXCLUDED.description, registered_collectors.description)",
				 l->qschema);
			rc = ld_exec(l, sql, 4, params, NULL, err);
		}
		if (rc == 0) {
			const char *kp[3] = {kid, id, pga_pubkey_pem(pub)};

			snprintf(sql, sizeof(sql), "INSERT INTO %s.collector_keys (key_id, collector,"
				 " public_key) VALUES (decode($1, 'hex'), $2, $3)"
				 " ON CONFLICT (key_id) DO NOTHING", l->qschema);
			rc = ld_exec(l, sql, 3, kp, NULL, err);
		}
		if (rc == 0)
			rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
	}
	if (rc == 0)
		fprintf(out, "collector '%s' registered with key %.16s\n", id, kid);
out:
	if (l != NULL)
		ld_rollback(l);
	loader_close(l);
	pga_pubkey_free(pub);
	return rc;
}

int
load_registry_list(const struct load_opts *o, bool json, FILE *out, struct pga_err *err)
{
	struct loader *l = NULL;
	PGresult *res = NULL;
	char sql[1024];
	int rc = open_loader(&l, o, err);

	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql), "SELECT r.collector, coalesce(r.environment, ''),"
		 " coalesce(r.collector_group, ''), coalesce(r.description, ''),"
		 " coalesce(encode(k.key_id, 'hex'), ''), coalesce(k.added_at::text, ''),"
		 " coalesce(k.revoked_at::text, '')"
		 " FROM %s.registered_collectors r LEFT JOIN %s.collector_keys k USING (collector)"
		 " ORDER BY r.collector, k.added_at, k.key_id", l->qschema, l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	if (rc == 0 && json) {
		struct jsonw jw, *j = &jw;

		jsonw_init(j, out);
		jsonw_arr_open(j);
		for (int i = 0; i < PQntuples(res); i++) {
			jsonw_obj_open(j);
			jsonw_key(j, "collector"); jsonw_str(j, PQgetvalue(res, i, 0));
			jsonw_key(j, "environment"); jsonw_str(j, PQgetvalue(res, i, 1));
			jsonw_key(j, "group"); jsonw_str(j, PQgetvalue(res, i, 2));
			jsonw_key(j, "description"); jsonw_str(j, PQgetvalue(res, i, 3));
			jsonw_key(j, "key_id"); jsonw_str(j, PQgetvalue(res, i, 4));
			jsonw_key(j, "added"); jsonw_str(j, PQgetvalue(res, i, 5));
			jsonw_key(j, "revoked"); jsonw_str(j, PQgetvalue(res, i, 6));
			jsonw_obj_close(j);
		}
		jsonw_arr_close(j);
		jsonw_end(j);
	} else if (rc == 0) {
		fprintf(out, "%-24s %-12s %-12s %-16s %s\n", "COLLECTOR", "ENVIRONMENT", "GROUP",
			"KEY", "REVOKED");
		for (int i = 0; i < PQntuples(res); i++) {
			char c[256], e[128], g[128], d[512];

			fprintf(out, "%-24s %-12s %-12s %-16.16s %s%s%s\n",
				esc(PQgetvalue(res, i, 0), c, sizeof(c)),
				esc(PQgetvalue(res, i, 1), e, sizeof(e)),
				esc(PQgetvalue(res, i, 2), g, sizeof(g)),
				PQgetvalue(res, i, 4), PQgetvalue(res, i, 6)[0] ? PQgetvalue(res, i, 6) : "-",
				PQgetvalue(res, i, 3)[0] ? "  " : "",
				esc(PQgetvalue(res, i, 3), d, sizeof(d)));
		}
	}
	PQclear(res);
	loader_close(l);
	return rc;
}

/* revoke (from_us, key file or all keys) or remove (remove true) */
int
load_registry_change(const struct load_opts *o, const char *id, bool remove,
		     int64_t from_us, const char *pubkey_file, FILE *out, struct pga_err *err)
{
	struct pga_pubkey *pub = NULL;
	struct loader *l = NULL;
	char sql[512], ts[40], kid[PGA_SHA256_HEX] = "";
	PGresult *res = NULL;
	int rc = 0;

	if (pubkey_file != NULL)
		rc = pga_pubkey_load(&pub, pubkey_file, err);
	if (rc == 0)
		rc = open_loader(&l, o, err);
	if (rc < 0)
		goto out;
	if (pub != NULL)
		pga_hex(pga_pubkey_id(pub), PGA_SIGN_KEYID_LEN, kid);
	pga_format_time(from_us, ts, sizeof(ts));
	{
		const char *params[3] = {id, ts, kid};

		if (remove)
			snprintf(sql, sizeof(sql), "DELETE FROM %s.registered_collectors"
				 " WHERE collector = $1", l->qschema);
		else
			snprintf(sql, sizeof(sql), "UPDATE %s.collector_keys SET revoked_at ="
				 " least(coalesce(revoked_at, 'infinity'), $2::timestamptz)"
				 " WHERE collector = $1 AND ($3 = '' OR key_id = decode($3, 'hex'))",
				 l->qschema);
		rc = ld_exec(l, sql, remove ? 1 : 3, params, &res, err);
	}
	if (rc == 0 && strcmp(PQcmdTuples(res), "0") == 0)
		rc = pga_fail(err, PGA_ENOTFOUND, "no %s collector '%s'%s",
			      remove ? "registered" : "key of", id,
			      pub != NULL ? " with that public key" : "");
	if (rc == 0)
		fprintf(out, remove ? "collector '%s' removed from the registry\n" :
			"%s key(s) of collector '%s' revoked from %s\n",
			remove ? id : PQcmdTuples(res), id, ts);
	PQclear(res);
out:
	loader_close(l);
	pga_pubkey_free(pub);
	return rc;
}

/* ---- verification ---- */

/* The ledger's hash chain, row by row in ledger order. */
static int
verify_ledger(struct loader *l, FILE *out, int *found, struct pga_err *err)
{
	char sql[2000], prev[PGA_SHA256_HEX * 2] = "";
	PGresult *res = NULL;
	int rc, n;

	/* rows that --resolve-fork unloaded keep their link in held_segments:
	 * their content moved, so only the link is checked (column 7) */
	snprintf(sql, sizeof(sql),
		 "SELECT * FROM (SELECT s.ledger_no, coalesce(encode(s.prev_row_hash, 'hex'), ''),"
		 " coalesce(encode(s.row_hash, 'hex'), ''),"
		 " coalesce(encode(%s.ledger_hash(s.prev_row_hash, s.ledger_no, s.collector_id, s.seq,"
		 "  s.sha256, s.body_sha256, s.prev_sha256, s.name, s.size, s.created, s.signed_key_id,"
		 "  s.signature), 'hex'), ''), coalesce(c.collector, '?'), s.seq,"
		 " s.ledger_no IS NULL AND s.loaded_at < (SELECT applied_at FROM %s.schema_version"
		 "  WHERE version = 3), false"
		 " FROM %s.segments s LEFT JOIN %s.collectors c USING (collector_id)"
		 " UNION ALL SELECT h.ledger_no, coalesce(encode(h.prev_row_hash, 'hex'), ''),"
		 " coalesce(encode(h.row_hash, 'hex'), ''), coalesce(encode(h.row_hash, 'hex'), ''),"
		 " h.collector, h.seq, false, true FROM %s.held_segments h"
		 " WHERE h.reason = 'unloaded' AND h.ledger_no IS NOT NULL) r"
		 " ORDER BY 1 NULLS FIRST, 5, 6",
		 l->qschema, l->qschema, l->qschema, l->qschema, l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	if (rc < 0)
		return rc;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		const char *no = PQgetvalue(res, i, 0), *c = PQgetvalue(res, i, 4);
		const char *seq = PQgetvalue(res, i, 5);
		char cesc[256];

		esc(c, cesc, sizeof(cesc));
		if (PQgetisnull(res, i, 0)) {
			if (strcmp(PQgetvalue(res, i, 6), "t") != 0) {
				fprintf(out, "LEDGER   collector '%s' seq %s: a ledger row outside the hash "
					"chain (inserted behind pga's back)\n", cesc, seq);
				(*found)++;
			}
			continue;
		}
		if (strcmp(PQgetvalue(res, i, 2), PQgetvalue(res, i, 3)) != 0) {
			fprintf(out, "LEDGER   row %s (collector '%s' seq %s): its content does not "
				"match its hash (updated behind pga's back)\n", no, cesc, seq);
			(*found)++;
		}
		if (strcmp(PQgetvalue(res, i, 1), prev) != 0) {
			fprintf(out, "LEDGER   row %s (collector '%s' seq %s): the chain is broken "
				"before it (a row deleted or inserted behind pga's back)\n", no, cesc,
				seq);
			(*found)++;
		}
		strlcpy(prev, PQgetvalue(res, i, 2), sizeof(prev));
	}
	if (prev[0] != '\0')
		fprintf(out, "ledger head: %s (keep it elsewhere: a later --verify that does not "
			"reach it shows rows removed from the end)\n", prev);
	PQclear(res);
	return 0;
}

/* Each collector's segment chain (the chain_breaks view). */
static int
verify_chains(struct loader *l, FILE *out, int *found, struct pga_err *err)
{
	char sql[512];
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT collector, seq FROM %s.chain_breaks"
		 " ORDER BY collector, seq", l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		char c[256];

		fprintf(out, "CHAIN    collector '%s' seq %s: its previous-segment hash is not the "
			"ledger's hash of seq - 1\n", esc(PQgetvalue(res, i, 0), c, sizeof(c)),
			PQgetvalue(res, i, 1));
		(*found)++;
	}
	PQclear(res);
	return rc;
}

/* Every stored signature whose key is registered, checked again. */
static int
verify_signatures(struct loader *l, FILE *out, int *found, struct pga_err *err)
{
	char sql[700];
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql),
		 "SELECT coalesce(c.collector, '?'), s.seq, encode(s.body_sha256, 'hex'),"
		 " encode(s.signature, 'hex'), k.public_key, encode(s.signed_key_id, 'hex')"
		 " FROM %s.segments s LEFT JOIN %s.collectors c USING (collector_id)"
		 " JOIN %s.collector_keys k ON k.key_id = s.signed_key_id"
		 " ORDER BY 1, 2", l->qschema, l->qschema, l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		uint8_t body[PGA_SHA256_LEN], sig[PGA_SIGN_SIG_LEN];
		const char *pem = PQgetvalue(res, i, 4);
		struct pga_pubkey *pub = NULL;
		struct pga_err kerr = {0};
		bool ok = strlen(PQgetvalue(res, i, 3)) == 2 * PGA_SIGN_SIG_LEN &&
			  pga_unhex(PQgetvalue(res, i, 2), body, sizeof(body)) == 0 &&
			  pga_unhex(PQgetvalue(res, i, 3), sig, sizeof(sig)) == 0 &&
			  pga_pubkey_parse(&pub, pem, strlen(pem), "registered key", &kerr) == 0 &&
			  pga_pubkey_verify(pub, body, sizeof(body), sig, sizeof(sig));
		char c[256];

		pga_pubkey_free(pub);
		if (!ok) {
			fprintf(out, "SIGNATURE collector '%s' seq %s: the stored signature by key "
				"%.16s does not verify\n", esc(PQgetvalue(res, i, 0), c, sizeof(c)),
				PQgetvalue(res, i, 1), PQgetvalue(res, i, 5));
			(*found)++;
		}
	}
	PQclear(res);
	return rc;
}

int
load_verify_central(const struct load_opts *o, FILE *out, struct pga_err *err)
{
	struct loader *l = NULL;
	int found = 0;
	int rc = open_loader(&l, o, err);

	if (rc == 0)
		rc = ld_exec(l, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, err);
	if (rc == 0)
		rc = verify_ledger(l, out, &found, err);
	if (rc == 0)
		rc = verify_chains(l, out, &found, err);
	if (rc == 0)
		rc = verify_signatures(l, out, &found, err);
	if (l != NULL)
		ld_rollback(l);
	loader_close(l);
	if (rc < 0)
		return rc;
	fprintf(out, "verify: %d finding%s\n", found, found == 1 ? "" : "s");
	return found;
}
