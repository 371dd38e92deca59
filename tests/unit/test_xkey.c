/* Unit tests of common/xkey.c: X25519 key files, the envelope, AES-256-GCM. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/edkey.h"
#include "common/xkey.h"

static char tmpdir[256];
static struct pga_xkey *k1, *k2;
static struct pga_xpub *p1, *p2;

static void
pair(const char *name, struct pga_xkey **k, struct pga_xpub **p)
{
	char prefix[300], path[320];
	uint8_t id[PGA_X_KEYID_LEN];
	struct pga_err err = {0};

	snprintf(prefix, sizeof(prefix), "%s/%s", tmpdir, name);
	assert_int_equal(pga_x_keygen(prefix, id, &err), 0);
	snprintf(path, sizeof(path), "%s.key", prefix);
	assert_int_equal(pga_xkey_load(k, path, &err), 0);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	assert_int_equal(pga_xpub_load(p, path, &err), 0);
	assert_memory_equal(id, pga_xkey_id(*k), PGA_X_KEYID_LEN);
	assert_memory_equal(id, pga_xpub_id(*p), PGA_X_KEYID_LEN);
}

static void
test_wrap_unwrap(void **state)
{
	uint8_t dk[PGA_X_DATAKEY_LEN], out[PGA_X_DATAKEY_LEN], eph[PGA_X_RAW_LEN];
	uint8_t w[PGA_X_WRAPPED_LEN], eph2[PGA_X_RAW_LEN], w2[PGA_X_WRAPPED_LEN];
	const char aad[] = "segment header fields";
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_x_datakey(dk, &err), 0);
	assert_int_equal(pga_x_wrap(p1, dk, aad, sizeof(aad), eph, w, &err), 0);
	assert_int_equal(pga_x_unwrap(k1, eph, w, sizeof(w), aad, sizeof(aad), out, &err), 0);
	assert_memory_equal(dk, out, sizeof(dk));
	/* a second wrap of the same key shares nothing: a fresh ephemeral key */
	assert_int_equal(pga_x_wrap(p1, dk, aad, sizeof(aad), eph2, w2, &err), 0);
	assert_memory_not_equal(eph, eph2, sizeof(eph));
	assert_memory_not_equal(w, w2, sizeof(w));
	/* the wrapped bytes are not the key */
	assert_memory_not_equal(w, dk, sizeof(dk));
}

static void
test_wrong_key(void **state)
{
	uint8_t dk[PGA_X_DATAKEY_LEN], out[PGA_X_DATAKEY_LEN], eph[PGA_X_RAW_LEN];
	uint8_t w[PGA_X_WRAPPED_LEN];
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_x_datakey(dk, &err), 0);
	assert_int_equal(pga_x_wrap(p1, dk, "a", 1, eph, w, &err), 0);
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(pga_x_unwrap(k2, eph, w, sizeof(w), "a", 1, out, &err), PGA_ECHECKSUM);
	assert_non_null(strstr(err.msg, "does not unwrap"));
	/* nothing of a key leaks out of a failed unwrap */
	assert_memory_not_equal(out, dk, sizeof(dk));
}

static void
test_truncated_and_tampered(void **state)
{
	uint8_t dk[PGA_X_DATAKEY_LEN], out[PGA_X_DATAKEY_LEN], eph[PGA_X_RAW_LEN];
	uint8_t w[PGA_X_WRAPPED_LEN];
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_x_datakey(dk, &err), 0);
	assert_int_equal(pga_x_wrap(p1, dk, "hdr", 3, eph, w, &err), 0);
	for (size_t n = 0; n < sizeof(w); n++)	/* every shorter wrapped key */
		assert_int_equal(pga_x_unwrap(k1, eph, w, n, "hdr", 3, out, &err), PGA_ECORRUPT);
	assert_non_null(strstr(err.msg, "not 48"));
	for (size_t i = 0; i < sizeof(w); i++) {	/* key and tag bytes */
		w[i] ^= 0x01;
		assert_int_equal(pga_x_unwrap(k1, eph, w, sizeof(w), "hdr", 3, out, &err),
				 PGA_ECHECKSUM);
		w[i] ^= 0x01;
	}
	for (size_t i = 0; i < sizeof(eph); i++) {	/* the ephemeral key */
		eph[i] ^= 0x40;
		assert_true(pga_x_unwrap(k1, eph, w, sizeof(w), "hdr", 3, out, &err) < 0);
		eph[i] ^= 0x40;
	}
	/* the associated data: another header's fields */
	assert_int_equal(pga_x_unwrap(k1, eph, w, sizeof(w), "hdR", 3, out, &err), PGA_ECHECKSUM);
	assert_int_equal(pga_x_unwrap(k1, eph, w, sizeof(w), "hd", 2, out, &err), PGA_ECHECKSUM);
	assert_int_equal(pga_x_unwrap(k1, eph, w, sizeof(w), "hdr", 3, out, &err), 0);
	assert_memory_equal(dk, out, sizeof(dk));
}

static void
test_aead(void **state)
{
	uint8_t key[PGA_X_DATAKEY_LEN], nonce[PGA_X_NONCE_LEN] = {1, 2, 3};
	uint8_t msg[1000], ct[1000], pt[1000], tag[PGA_X_TAG_LEN];
	struct pga_aead *a = NULL;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_x_datakey(key, &err), 0);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	assert_int_equal(pga_aead_new(&a, key, &err), 0);
	assert_int_equal(pga_aead_seal(a, nonce, "aad", 3, msg, sizeof(msg), ct, tag, &err), 0);
	assert_memory_not_equal(msg, ct, sizeof(msg));
	assert_int_equal(pga_aead_open(a, nonce, "aad", 3, ct, sizeof(ct), pt, tag, &err), 0);
	assert_memory_equal(msg, pt, sizeof(msg));
	for (size_t i = 0; i < sizeof(ct); i += 37) {	/* ciphertext */
		ct[i] ^= 0x80;
		assert_int_equal(pga_aead_open(a, nonce, "aad", 3, ct, sizeof(ct), pt, tag, &err),
				 PGA_ECHECKSUM);
		ct[i] ^= 0x80;
	}
	for (size_t i = 0; i < sizeof(tag); i++) {	/* the tag */
		tag[i] ^= 0x01;
		assert_int_equal(pga_aead_open(a, nonce, "aad", 3, ct, sizeof(ct), pt, tag, &err),
				 PGA_ECHECKSUM);
		tag[i] ^= 0x01;
	}
	nonce[11] = 1;	/* the last-chunk flag of the nonce */
	assert_int_equal(pga_aead_open(a, nonce, "aad", 3, ct, sizeof(ct), pt, tag, &err),
			 PGA_ECHECKSUM);
	nonce[11] = 0;
	assert_int_equal(pga_aead_open(a, nonce, "aaD", 3, ct, sizeof(ct), pt, tag, &err),
			 PGA_ECHECKSUM);
	/* a cut message fails too */
	assert_int_equal(pga_aead_open(a, nonce, "aad", 3, ct, sizeof(ct) - 1, pt, tag, &err),
			 PGA_ECHECKSUM);
	/* an empty message still has a tag that counts */
	assert_int_equal(pga_aead_seal(a, nonce, "x", 1, NULL, 0, NULL, tag, &err), 0);
	assert_int_equal(pga_aead_open(a, nonce, "x", 1, NULL, 0, NULL, tag, &err), 0);
	assert_int_equal(pga_aead_open(a, nonce, "y", 1, NULL, 0, NULL, tag, &err), PGA_ECHECKSUM);
	pga_aead_free(a);
}

static void
test_keycheck(void **state)
{
	uint8_t a[PGA_X_DATAKEY_LEN], b[PGA_X_DATAKEY_LEN];
	uint8_t ca[PGA_X_KEYCHECK_LEN], ca2[PGA_X_KEYCHECK_LEN], cb[PGA_X_KEYCHECK_LEN];
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_x_datakey(a, &err), 0);
	assert_int_equal(pga_x_datakey(b, &err), 0);
	assert_int_equal(pga_x_keycheck(a, ca, &err), 0);
	assert_int_equal(pga_x_keycheck(a, ca2, &err), 0);
	assert_int_equal(pga_x_keycheck(b, cb, &err), 0);
	assert_memory_equal(ca, ca2, sizeof(ca));
	assert_memory_not_equal(ca, cb, sizeof(ca));
	assert_memory_not_equal(ca, a, sizeof(ca));
}

static void
test_key_files(void **state)
{
	char prefix[300], path[320], cmd[700];
	uint8_t id[PGA_X_KEYID_LEN];
	struct pga_xkey *k = NULL;
	struct pga_xpub *p = NULL;
	struct pga_err err = {0};
	struct stat st;

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s/kf", tmpdir);
	assert_int_equal(pga_x_keygen(prefix, id, &err), 0);
	assert_int_equal(pga_x_keygen(prefix, id, &err), PGA_ECONFLICT);
	snprintf(path, sizeof(path), "%s.key", prefix);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	for (unsigned mode = 0; mode < 0100; mode++) {	/* any group or other bit */
		chmod(path, 0600 | mode);
		assert_int_equal(pga_xkey_load(&k, path, &err), mode ? PGA_EPERM : 0);
		if (mode)
			assert_non_null(strstr(err.msg, "decryption key"));
		pga_xkey_free(k);
		k = NULL;
	}
	chmod(path, 0400);
	assert_int_equal(pga_xkey_load(&k, path, &err), 0);
	pga_xkey_free(k);
	k = NULL;
	/* a public key is no private key, an Ed25519 key no X25519 key */
	snprintf(path, sizeof(path), "%s.pub", prefix);
	chmod(path, 0600);
	assert_int_equal(pga_xkey_load(&k, path, &err), PGA_EINVAL);
	snprintf(prefix, sizeof(prefix), "%s/ed", tmpdir);
	assert_int_equal(pga_sign_keygen(prefix, id, &err), 0);
	snprintf(path, sizeof(path), "%s.key", prefix);
	assert_int_equal(pga_xkey_load(&k, path, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "not an X25519 key"));
	snprintf(path, sizeof(path), "%s.pub", prefix);
	assert_int_equal(pga_xpub_load(&p, path, &err), PGA_EINVAL);
	/* keys made by openssl genpkey are read, ids agree with pga's */
	snprintf(cmd, sizeof(cmd), "cd '%s' && umask 077 && openssl genpkey -algorithm x25519 "
		 "-out os.key 2>/dev/null && openssl pkey -in os.key -pubout -out os.pub", tmpdir);
	if (system(cmd) == 0) {
		snprintf(path, sizeof(path), "%s/os.key", tmpdir);
		assert_int_equal(pga_xkey_load(&k, path, &err), 0);
		snprintf(path, sizeof(path), "%s/os.pub", tmpdir);
		assert_int_equal(pga_xpub_load(&p, path, &err), 0);
		assert_memory_equal(pga_xkey_id(k), pga_xpub_id(p), PGA_X_KEYID_LEN);
		pga_xkey_free(k);
		pga_xpub_free(p);
	}
}

static int
group_setup(void **state)
{
	static char tmpl[] = "/tmp/pga-unit-xkey.XXXXXX";

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	pair("one", &k1, &p1);
	pair("two", &k2, &p2);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	pga_xkey_free(k1);
	pga_xkey_free(k2);
	pga_xpub_free(p1);
	pga_xpub_free(p2);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap_unwrap),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_truncated_and_tampered),
		cmocka_unit_test(test_aead),
		cmocka_unit_test(test_keycheck),
		cmocka_unit_test(test_key_files),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
