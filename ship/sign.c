/* HMAC-SHA256 for the signers; see sign.h. */
#include "ship/sign.h"

#include "common/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

int
sign_hmac_sha256(const void *key, size_t keylen, const void *msg,
		 size_t msglen, uint8_t out[SIGN_HMAC_LEN], struct pga_err *err)
{
	unsigned int outlen = 0;

	if (keylen > (size_t)INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, msg, msglen, out, &outlen) == NULL ||
	    outlen != SIGN_HMAC_LEN)
		return pga_fail(err, PGA_EINTERNAL, "hmac-sha256 failed in openssl");
	return 0;
}

void
sign_put_decoded(struct dynbuf *b, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] == '%' && len - i >= 3 && (hi = pga_hexval(in[i + 1])) >= 0 &&
		    (lo = pga_hexval(in[i + 2])) >= 0) {
			dynbuf_addc(b, (char)(hi << 4 | lo));
			i += 2;
		} else {
			dynbuf_addc(b, in[i]);
		}
	}
}
