/* Ed25519 keys and signatures: see edkey.h for the rules. */
#define _GNU_SOURCE
#include "common/edkey.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/fsutil.h"
#include "common/secretfile.h"

struct pga_signkey {
	EVP_PKEY *pkey;
	uint8_t id[PGA_SIGN_KEYID_LEN];
};

struct pga_pubkey {
	EVP_PKEY *pkey;
	uint8_t id[PGA_SIGN_KEYID_LEN];
	char pem[PGA_SIGN_PEM_MAX];
};

/* The key id: SHA-256 of the raw public key (any EVP_PKEY holding one). */
static int
key_id(EVP_PKEY *pkey, uint8_t id[PGA_SIGN_KEYID_LEN], const char *what,
       struct pga_err *err)
{
	uint8_t raw[PGA_SIGN_RAW_LEN];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519)
		return pga_fail(err, PGA_EINVAL, "'%s' is not an Ed25519 key", what);
	if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != sizeof(raw))
		return pga_fail(err, PGA_EINVAL, "'%s': could not read its public key", what);
	pga_sha256_buf(raw, len, id);
	return 0;
}

/* Write data to path, refusing to replace anything: tmp file, fsync, link. */
int
pga_key_file_write(const char *path, const void *data, size_t len, unsigned mode,
	       struct pga_err *err)
{
	char tmp[PATH_MAX];
	int fd = -1, rc;

	rc = pga_path(tmp, sizeof(tmp), err, "%s.tmp%ld", path, (long)getpid());
	if (rc < 0)
		return rc;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", tmp);
	if (fchmod(fd, mode) != 0)	/* whatever the umask */
		rc = pga_fail(err, PGA_EIO, "could not chmod '%s': %m", tmp);
	if (rc == 0)
		rc = pga_write_all(fd, data, len, tmp, err);
	if (rc == 0)
		rc = pga_fsync_fd(fd, tmp, err);
	close(fd);
	/* link(2) fails with EEXIST: an existing key is never replaced */
	if (rc == 0 && link(tmp, path) != 0)
		rc = pga_fail(err, errno == EEXIST ? PGA_ECONFLICT : PGA_EIO,
			      errno == EEXIST ? "'%s' already exists: not replaced" :
			      "could not create '%s': %m", path);
	unlink(tmp);
	if (rc == 0)
		rc = pga_fsync_parent(path, err);
	return rc;
}

/* PEM text of pkey, private or public, into a BIO's memory. */
int
pga_key_pem(EVP_PKEY *pkey, bool private, char **text, size_t *len, struct pga_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int ok;

	if (bio == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	ok = private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_bio_PUBKEY(bio, pkey);
	n = BIO_get_mem_data(bio, &p);
	if (!ok || n <= 0 || (*text = malloc((size_t)n)) == NULL) {
		BIO_free(bio);
		return pga_fail(err, PGA_EINTERNAL, "could not encode the key as PEM");
	}
	memcpy(*text, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_cleanse(p, (size_t)n);
	BIO_free(bio);
	return 0;
}

int
pga_sign_keygen(const char *prefix, uint8_t keyid[PGA_SIGN_KEYID_LEN],
		struct pga_err *err)
{
	char keypath[PATH_MAX], pubpath[PATH_MAX];
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
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL)
		return pga_fail(err, PGA_EINTERNAL, "could not generate an Ed25519 key");
	rc = key_id(pkey, keyid, prefix, err);
	if (rc == 0)
		rc = pga_key_pem(pkey, true, &priv, &privlen, err);
	if (rc == 0)
		rc = pga_key_pem(pkey, false, &pub, &publen, err);
	if (rc == 0)
		rc = pga_key_file_write(keypath, priv, privlen, 0600, err);
	if (rc == 0) {
		rc = pga_key_file_write(pubpath, pub, publen, 0644, err);
		if (rc < 0)	/* a key without its public half is of no use */
			unlink(keypath);
	}
	if (priv != NULL)
		OPENSSL_cleanse(priv, privlen);
	free(priv);
	free(pub);
	EVP_PKEY_free(pkey);
	return rc;
}

/* The strict rule for private keys: owner only (0600 or 0400). */
static int
key_file_check(int fd, const char *what, const char *path, struct pga_err *err)
{
	struct stat st;
	int rc;

	if (fstat(fd, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", path);
	if (!S_ISREG(st.st_mode))
		return pga_fail(err, PGA_EINVAL, "%s '%s' is not a regular file", what, path);
	if ((st.st_mode & 077) != 0)	/* stricter than secretfile.h's 0640 */
		return pga_fail(err, PGA_EPERM, "%s '%s' has mode %04o: it must be 0600 "
				"(chmod 600): no group or other may read it", what, path,
				(unsigned)(st.st_mode & 07777));
	rc = pga_secret_file_check(&st, what, path, err);	/* its owner */
	return rc;
}

int
pga_key_file_read(const char *path, const char *what, char *buf, size_t cap, size_t *got,
		  struct pga_err *err)
{
	int fd, rc;

	*got = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open %s '%s': %m", what, path);
	rc = key_file_check(fd, what, path, err);
	if (rc == 0)
		rc = pga_read_full(fd, buf, cap, got, path, err);
	close(fd);
	if (rc == 0 && *got == cap)
		rc = pga_fail(err, PGA_EINVAL, "%s '%s' is too long for a key", what, path);
	if (rc < 0)
		OPENSSL_cleanse(buf, cap);
	return rc;
}

int
pga_pem_key_load(const char *path, const char *what, bool private, EVP_PKEY **out,
		 struct pga_err *err)
{
	char buf[PGA_SIGN_PEM_MAX];
	size_t got = 0;
	BIO *bio;
	int rc;

	*out = NULL;
	rc = private ? pga_key_file_read(path, what, buf, sizeof(buf), &got, err)
		     : pga_read_small_file(path, buf, sizeof(buf), &got, err);
	if (rc < 0)
		return rc;
	bio = BIO_new_mem_buf(buf, (int)got);
	if (bio == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	else if (private)
		*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	else
		*out = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (rc == 0 && *out == NULL)
		rc = pga_fail(err, PGA_EINVAL, "'%s' holds no PEM %s key", path,
			      private ? "private" : "public");
	BIO_free(bio);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int
pga_signkey_load(struct pga_signkey **out, const char *path, struct pga_err *err)
{
	struct pga_signkey *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (k == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = pga_pem_key_load(path, "signing key", true, &k->pkey, err);
	if (rc == 0)
		rc = key_id(k->pkey, k->id, path, err);
	if (rc < 0) {
		pga_signkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void
pga_signkey_free(struct pga_signkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);	/* OpenSSL clears the key material it frees */
	free(k);
}

const uint8_t *
pga_signkey_id(const struct pga_signkey *k)
{
	return k->id;
}

int
pga_signkey_sign(const struct pga_signkey *k, const void *msg, size_t len,
		 uint8_t sig[PGA_SIGN_SIG_LEN], struct pga_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = PGA_SIGN_SIG_LEN;
	int ok;

	if (ctx == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == PGA_SIGN_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : pga_fail(err, PGA_EINTERNAL, "Ed25519 signing failed");
}

int
pga_pubkey_parse(struct pga_pubkey **out, const char *pem, size_t len,
		 const char *what, struct pga_err *err)
{
	struct pga_pubkey *k;
	BIO *bio;
	int rc = 0;

	*out = NULL;
	if (len >= PGA_SIGN_PEM_MAX)
		return pga_fail(err, PGA_EINVAL, "'%s' is too long for a public key", what);
	k = calloc(1, sizeof(*k));
	bio = BIO_new_mem_buf(pem, (int)len);
	if (k == NULL || bio == NULL) {
		free(k);
		BIO_free(bio);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k->pkey == NULL)
		rc = pga_fail(err, PGA_EINVAL, "'%s' holds no PEM public key", what);
	if (rc == 0)
		rc = key_id(k->pkey, k->id, what, err);
	if (rc == 0) {	/* the canonical text, whatever surrounded it */
		char *text = NULL;
		size_t n = 0;

		rc = pga_key_pem(k->pkey, false, &text, &n, err);
		if (rc == 0 && n >= sizeof(k->pem))
			rc = pga_fail(err, PGA_EINVAL, "'%s' is too long for a public key", what);
		if (rc == 0) {
			memcpy(k->pem, text, n);
			k->pem[n] = '\0';
		}
		free(text);
	}
	if (rc < 0) {
		pga_pubkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int
pga_pubkey_load(struct pga_pubkey **out, const char *path, struct pga_err *err)
{
	char buf[PGA_SIGN_PEM_MAX];
	size_t len = 0;
	int rc = pga_read_small_file(path, buf, sizeof(buf), &len, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	return pga_pubkey_parse(out, buf, len, path, err);
}

void
pga_pubkey_free(struct pga_pubkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const uint8_t *
pga_pubkey_id(const struct pga_pubkey *k)
{
	return k->id;
}

const char *
pga_pubkey_pem(const struct pga_pubkey *k)
{
	return k->pem;
}

bool
pga_pubkey_verify(const struct pga_pubkey *k, const void *msg, size_t len,
		  const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok;

	if (ctx == NULL)
		return false;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}
