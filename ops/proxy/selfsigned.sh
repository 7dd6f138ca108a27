#!/bin/sh
# One-off job of compose ("proxy-cert"): a self-signed certificate for local use in the
# tls volume, unless a certificate is already there (put real ones there: tls.crt, tls.key).
set -eu
dir=${1:-/tls}
host=${PROXY_HOSTNAME:-localhost}
if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ]; then
    echo "certificate present in $dir: kept"
    exit 0
fi
# ECDSA P-256: a tenth of RSA-2048's handshake cost (see ops/proxy/__init__.py).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 -subj "/CN=$host" \
    -addext "subjectAltName=DNS:$host" -keyout "$dir/tls.key" -out "$dir/tls.crt"
chmod 0644 "$dir/tls.crt"
chmod 0640 "$dir/tls.key"
