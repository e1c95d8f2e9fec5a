#!/bin/sh
# Generates a self-signed certificate for pydovecot, as Dovecot's mkcert.sh does.
# Edit dovecot-openssl.cnf (an openssl req template) before running this.
#
# Writes $SSLDIR/certs/dovecot.pem (certificate) and $SSLDIR/private/dovecot.pem (key), both
# mode 0600, valid 365 days; refuses to overwrite either.  Defaults follow the CentOS layout of
# the seed tutorial: SSLDIR=/etc/pki/dovecot, OPENSSLCONFIG=$SSLDIR/dovecot-openssl.cnf (or the
# template next to this script when that one is missing).  Debian's template placeholders
# @commonName@ and @emailAddress@ are filled from the host name, as Debian's postinst does.
# Exit codes as Dovecot's: 1 for a missing directory or an existing file, 2 when openssl fails.

umask 077
OPENSSL=${OPENSSL-openssl}
SSLDIR=${SSLDIR-/etc/pki/dovecot}
if [ -z "$OPENSSLCONFIG" ]; then
  OPENSSLCONFIG=$SSLDIR/dovecot-openssl.cnf
  [ -f "$OPENSSLCONFIG" ] || OPENSSLCONFIG=$(dirname "$0")/dovecot-openssl.cnf
fi

CERTDIR=$SSLDIR/certs
KEYDIR=$SSLDIR/private

CERTFILE=$CERTDIR/dovecot.pem
KEYFILE=$KEYDIR/dovecot.pem

if [ ! -d "$CERTDIR" ]; then
  echo "$CERTDIR directory doesn't exist"
  exit 1
fi

if [ ! -d "$KEYDIR" ]; then
  echo "$KEYDIR directory doesn't exist"
  exit 1
fi

if [ -f "$CERTFILE" ]; then
  echo "$CERTFILE already exists, won't overwrite"
  exit 1
fi

if [ -f "$KEYFILE" ]; then
  echo "$KEYFILE already exists, won't overwrite"
  exit 1
fi

# A working copy of the template: Debian's placeholders filled in, and RANDFILE dropped
# (OpenSSL 3 seeds itself and fails when it cannot write the seed back to /dev/urandom).
if [ ! -r "$OPENSSLCONFIG" ]; then
  echo "$OPENSSLCONFIG: template not readable"
  exit 2
fi
HOST=${HOSTNAME_FQDN-$(hostname -f 2>/dev/null || hostname)}
CONFIG=$(mktemp) || exit 2
trap 'rm -f "$CONFIG"' EXIT
sed -e "s/@commonName@/$HOST/g" -e "s/@emailAddress@/root@$HOST/g" \
    -e 's/^[[:space:]]*RANDFILE[[:space:]]*=/#&/' "$OPENSSLCONFIG" > "$CONFIG" || exit 2

$OPENSSL req -new -x509 -nodes -config "$CONFIG" -out "$CERTFILE" -keyout "$KEYFILE" -days 365 || exit 2
chmod 0600 "$KEYFILE"
echo
$OPENSSL x509 -subject -fingerprint -noout -in "$CERTFILE" || exit 2
