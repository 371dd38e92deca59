/*
 * `pga keygen [--encryption] -o PREFIX`: a new key pair, Ed25519 for signing
 * segments or X25519 for encrypting them (common/xkey.h)
 *
 * PREFIX.key (PKCS#8 PEM, 0600) and PREFIX.pub (SubjectPublicKeyInfo PEM),
 * what `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`
 * write, so either tool reads the other's keys.  Nothing is replaced: an
 * existing file is an error and leaves both files as they were.  The key
 * id printed is what signature frames and `pga collectors list` show.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/edkey.h"
#include "common/hash.h"
#include "common/xkey.h"

int
cmd_keygen(int argc, char **argv, struct pga_ctx *ctx)
{
	uint8_t id[PGA_SIGN_KEYID_LEN];
	char hex[2 * PGA_SIGN_KEYID_LEN + 1];
	struct pga_err err = {0};
	const char *prefix = ctx->cfg->args.output;

	(void)argc;
	(void)argv;
	if (prefix == NULL || prefix[0] == '\0')
		return pga_cli_usage(ctx->cmd, "-o PREFIX is empty");
	if (ctx->cfg->args.encryption) {
		if (pga_x_keygen(prefix, id, &err) < 0)
			return pga_cli_error(&err);
		pga_hex(id, sizeof(id), hex);
		printf("wrote %s.key (X25519 private key, 0600: for decrypt-key-file on the "
		       "central side only) and %s.pub (for encrypt-to)\nkey id %s\n", prefix,
		       prefix, hex);
		return PGA_EXIT_OK;
	}
	if (pga_sign_keygen(prefix, id, &err) < 0)
		return pga_cli_error(&err);
	pga_hex(id, sizeof(id), hex);
	printf("wrote %s.key (private, 0600) and %s.pub\nkey id %s\n", prefix, prefix, hex);
	return PGA_EXIT_OK;
}
