#!/bin/sh
# man.sh PGA TEMPLATE: the man page's scdoc, its @...@ lines filled from the
# option table through `pga help ... --man` (common/options.h):
#   @SYNOPSIS@  @GLOBAL_OPTIONS@  @COMMAND name@  @OPTIONS name@
#   @CONFIG_KEYS@  @ENVIRONMENT@
# The Makefile builds pga(1) with it, tests/t/1007-docs.t checks the result.
set -u
pga=$1
tpl=$2
while IFS= read -r line; do
	case $line in
	@SYNOPSIS@) "$pga" help --man ;;
	@GLOBAL_OPTIONS@) "$pga" help --man-options ;;
	@CONFIG_KEYS@) "$pga" help config --man ;;
	@ENVIRONMENT@) "$pga" help environment --man ;;
	"@COMMAND "*@) name=${line#@COMMAND }; "$pga" help ${name%@} --man ;;
	"@OPTIONS "*@) name=${line#@OPTIONS }; "$pga" help ${name%@} --man-options ;;
	@*@) echo "man.sh: unknown marker '$line'" >&2; exit 1 ;;
	*) printf '%s\n' "$line" ;;
	esac || { echo "man.sh: '$line' failed" >&2; exit 1; }
done <"$tpl"
