/* X25519 keys, the data key envelope and AES-256-GCM: see xkey.h. */
#define _GNU_SOURCE
#include "common/xkey.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/edkey.h"
#include "common/fsutil.h"

#define WRAP_INFO "pga-segment-wrap-v1"
#define KEYCHECK_INFO "pga-segment-keycheck-v1"

struct pga_xpub {
	EVP_PKEY *pkey;
	uint8_t raw[PGA_X_RAW_LEN];
	uint8_t id[PGA_X_KEYID_LEN];
};

struct pga_xkey {
	EVP_PKEY *pkey;
	uint8_t raw[PGA_X_RAW_LEN];	/* its public key */
	uint8_t id[PGA_X_KEYID_LEN];
};

struct pga_aead {
	EVP_CIPHER_CTX *enc, *dec;
};

/* The raw public key and its id; refuses anything but X25519. */
static int
x_pub_of(EVP_PKEY *pkey, uint8_t raw[PGA_X_RAW_LEN], uint8_t id[PGA_X_KEYID_LEN],
	 const char *what, struct pga_err *err)
{
	size_t len = PGA_X_RAW_LEN;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_X25519)
		return pga_fail(err, PGA_EINVAL, "'%s' is not an X25519 key (pga keygen "
				"--encryption makes one)", what);
	if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != PGA_X_RAW_LEN)
		return pga_fail(err, PGA_EINVAL, "'%s': could not read its public key", what);
	pga_sha256_buf(raw, len, id);
	return 0;
}

int
pga_x_keygen(const char *prefix, uint8_t keyid[PGA_X_KEYID_LEN], struct pga_err *err)
{
	char keypath[PATH_MAX], pubpath[PATH_MAX];
	uint8_t raw[PGA_X_RAW_LEN];
	EVP_PKEY *pkey = NULL;
	char *priv = NULL, *pub = NULL;
	size_t privlen = 0, publen = 0;
	int rc;

	rc = pga_path(keypath, sizeof(keypath), err, "%s.key", prefix);
	if (rc == 0)
		rc = pga_path(pubpath, sizeof(pubpath), err, "%s.pub", prefix);
	if (rc < 0)
		return rc;
	if (access(keypath, F_OK) == 0 || access(pubpath, F_OK) == 0)
		return pga_fail(err, PGA_ECONFLICT, "'%s' or '%s' already exists: not replaced",
				keypath, pubpath);
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	if (pkey == NULL)
		return pga_fail(err, PGA_EINTERNAL, "could not generate an X25519 key");
	rc = x_pub_of(pkey, raw, keyid, prefix, err);
	if (rc == 0)
		rc = pga_key_pem(pkey, true, &priv, &privlen, err);
	if (rc == 0)
		rc = pga_key_pem(pkey, false, &pub, &publen, err);
	if (rc == 0)
		rc = pga_key_file_write(keypath, priv, privlen, 0600, err);
	if (rc == 0) {
		rc = pga_key_file_write(pubpath, pub, publen, 0644, err);
		if (rc < 0)	/* a private key without its public half is of no use */
			unlink(keypath);
	}
	if (priv != NULL)
		OPENSSL_cleanse(priv, privlen);
	free(priv);
	free(pub);
	EVP_PKEY_free(pkey);
	return rc;
}

int
pga_xpub_load(struct pga_xpub **out, const char *path, struct pga_err *err)
{
	struct pga_xpub *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (k == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = pga_pem_key_load(path, "public key", false, &k->pkey, err);
	if (rc == 0)
		rc = x_pub_of(k->pkey, k->raw, k->id, path, err);
	if (rc < 0) {
		pga_xpub_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
pga_xpub_free(struct pga_xpub *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const uint8_t *
pga_xpub_id(const struct pga_xpub *k)
{
	return k->id;
}

int
pga_xkey_load(struct pga_xkey **out, const char *path, struct pga_err *err)
{
	struct pga_xkey *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (k == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = pga_pem_key_load(path, "decryption key", true, &k->pkey, err);
	if (rc == 0)
		rc = x_pub_of(k->pkey, k->raw, k->id, path, err);
	if (rc < 0) {
		pga_xkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
pga_xkey_free(struct pga_xkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);	/* OpenSSL clears the key material it frees */
	free(k);
}

const uint8_t *
pga_xkey_id(const struct pga_xkey *k)
{
	return k->id;
}

int
pga_x_datakey(uint8_t dk[PGA_X_DATAKEY_LEN], struct pga_err *err)
{
	if (RAND_bytes(dk, PGA_X_DATAKEY_LEN) != 1)
		return pga_fail(err, PGA_EINTERNAL, "no random bytes for a data key");
	return 0;
}

/* HKDF-SHA256(ikm, salt, info) into out. */
static int
hkdf(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
     const char *info, uint8_t *out, size_t outlen, struct pga_err *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5], *q = p;
	int ok;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	if (saltlen > 0)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							 saltlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
						 strlen(info));
	*q = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_KDF_derive(ctx, out, outlen, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : pga_fail(err, PGA_EINTERNAL, "HKDF-SHA256 failed");
}

/* X25519(priv, peer) then HKDF into the wrap key; salt eph || recipient. */
static int
wrap_key(EVP_PKEY *priv, const uint8_t peer_raw[PGA_X_RAW_LEN],
	 const uint8_t eph[PGA_X_RAW_LEN], const uint8_t recip[PGA_X_RAW_LEN],
	 uint8_t key[PGA_X_DATAKEY_LEN], struct pga_err *err)
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_raw,
						     PGA_X_RAW_LEN);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
	uint8_t shared[PGA_X_RAW_LEN], salt[2 * PGA_X_RAW_LEN];
	size_t len = sizeof(shared);
	int rc = 0;

	/* OpenSSL refuses an all-zero shared secret (a low-order point) */
	if (peer == NULL || ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &len) != 1 || len != sizeof(shared))
		rc = pga_fail(err, PGA_ECHECKSUM, "X25519 key agreement failed");
	memcpy(salt, eph, PGA_X_RAW_LEN);
	memcpy(salt + PGA_X_RAW_LEN, recip, PGA_X_RAW_LEN);
	if (rc == 0)
		rc = hkdf(shared, sizeof(shared), salt, sizeof(salt), WRAP_INFO, key,
			  PGA_X_DATAKEY_LEN, err);
	OPENSSL_cleanse(shared, sizeof(shared));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return rc;
}

static const uint8_t zero_nonce[PGA_X_NONCE_LEN];

int
pga_x_wrap(const struct pga_xpub *to, const uint8_t dk[PGA_X_DATAKEY_LEN],
	   const void *aad, size_t aadlen, uint8_t eph[PGA_X_RAW_LEN],
	   uint8_t wrapped[PGA_X_WRAPPED_LEN], struct pga_err *err)
{
	EVP_PKEY *e = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t wk[PGA_X_DATAKEY_LEN], id[PGA_X_KEYID_LEN];
	struct pga_aead *a = NULL;
	int rc;

	if (e == NULL)
		return pga_fail(err, PGA_EINTERNAL, "could not generate an X25519 key");
	rc = x_pub_of(e, eph, id, "ephemeral key", err);
	if (rc == 0)
		rc = wrap_key(e, to->raw, eph, to->raw, wk, err);
	if (rc == 0)
		rc = pga_aead_new(&a, wk, err);
	if (rc == 0)
		rc = pga_aead_seal(a, zero_nonce, aad, aadlen, dk, PGA_X_DATAKEY_LEN, wrapped,
				   wrapped + PGA_X_DATAKEY_LEN, err);
	pga_aead_free(a);
	OPENSSL_cleanse(wk, sizeof(wk));
	EVP_PKEY_free(e);	/* the ephemeral private key is never seen again */
	return rc;
}

int
pga_x_unwrap(const struct pga_xkey *k, const uint8_t eph[PGA_X_RAW_LEN],
	     const uint8_t *wrapped, size_t wlen, const void *aad, size_t aadlen,
	     uint8_t dk[PGA_X_DATAKEY_LEN], struct pga_err *err)
{
	uint8_t wk[PGA_X_DATAKEY_LEN];
	struct pga_aead *a = NULL;
	int rc;

	if (wlen != PGA_X_WRAPPED_LEN)
		return pga_fail(err, PGA_ECORRUPT, "wrapped data key is %zu bytes, not %d", wlen,
				PGA_X_WRAPPED_LEN);
	rc = wrap_key(k->pkey, eph, eph, k->raw, wk, err);
	if (rc == 0)
		rc = pga_aead_new(&a, wk, err);
	if (rc == 0)
		rc = pga_aead_open(a, zero_nonce, aad, aadlen, wrapped, PGA_X_DATAKEY_LEN, dk,
				   wrapped + PGA_X_DATAKEY_LEN, err);
	if (rc == PGA_ECHECKSUM)
		pga_fail(err, rc, "the data key does not unwrap (the wrapped key, its "
			 "ephemeral key or the header fields it is bound to were altered)");
	pga_aead_free(a);
	OPENSSL_cleanse(wk, sizeof(wk));
	return rc;
}

int
pga_x_keycheck(const uint8_t dk[PGA_X_DATAKEY_LEN], uint8_t out[PGA_X_KEYCHECK_LEN],
	       struct pga_err *err)
{
	return hkdf(dk, PGA_X_DATAKEY_LEN, NULL, 0, KEYCHECK_INFO, out, PGA_X_KEYCHECK_LEN,
		    err);
}

/* ---- AES-256-GCM ---- */

int
pga_aead_new(struct pga_aead **out, const uint8_t key[PGA_X_DATAKEY_LEN],
	     struct pga_err *err)
{
	struct pga_aead *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	a->enc = EVP_CIPHER_CTX_new();
	a->dec = EVP_CIPHER_CTX_new();
	if (a->enc == NULL || a->dec == NULL ||
	    EVP_EncryptInit_ex(a->enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
	    EVP_DecryptInit_ex(a->dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
		pga_aead_free(a);
		return pga_fail(err, PGA_EINTERNAL, "could not set up AES-256-GCM");
	}
	*out = a;
	return 0;
}

/* EVP lengths are int: every caller's pieces are far below INT_MAX. */
int
pga_aead_seal(struct pga_aead *a, const uint8_t nonce[PGA_X_NONCE_LEN], const void *aad,
	      size_t aadlen, const void *in, size_t len, void *out,
	      uint8_t tag[PGA_X_TAG_LEN], struct pga_err *err)
{
	int n = 0, ok;

	if (len > INT_MAX / 2 || aadlen > INT_MAX / 2)
		return pga_fail(err, PGA_EINTERNAL, "AES-256-GCM input too long");
	ok = EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, nonce) == 1 &&
	     (aadlen == 0 || EVP_EncryptUpdate(a->enc, NULL, &n, aad, (int)aadlen) == 1) &&
	     (len == 0 || EVP_EncryptUpdate(a->enc, out, &n, in, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(a->enc, (uint8_t *)out + (len ? n : 0), &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, PGA_X_TAG_LEN, tag) == 1;
	return ok ? 0 : pga_fail(err, PGA_EINTERNAL, "AES-256-GCM encryption failed");
}

int
pga_aead_open(struct pga_aead *a, const uint8_t nonce[PGA_X_NONCE_LEN], const void *aad,
	      size_t aadlen, const void *in, size_t len, void *out,
	      const uint8_t tag[PGA_X_TAG_LEN], struct pga_err *err)
{
	int n = 0, ok;

	if (len > INT_MAX / 2 || aadlen > INT_MAX / 2)
		return pga_fail(err, PGA_ECORRUPT, "AES-256-GCM input too long");
	ok = EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, nonce) == 1 &&
	     (aadlen == 0 || EVP_DecryptUpdate(a->dec, NULL, &n, aad, (int)aadlen) == 1) &&
	     (len == 0 || EVP_DecryptUpdate(a->dec, out, &n, in, (int)len) == 1) &&
	     EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, PGA_X_TAG_LEN,
				 (void *)tag) == 1;
	if (!ok)
		return pga_fail(err, PGA_EINTERNAL, "AES-256-GCM decryption failed");
	/* the tag is checked here: nothing of out counts before it passed */
	if (EVP_DecryptFinal_ex(a->dec, (uint8_t *)out + (len ? n : 0), &n) != 1) {
		OPENSSL_cleanse(out, len);
		return pga_fail(err, PGA_ECHECKSUM, "authentication failed");
	}
	return 0;
}

void
pga_aead_free(struct pga_aead *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->enc);	/* clears the key schedule */
	EVP_CIPHER_CTX_free(a->dec);
	free(a);
}
