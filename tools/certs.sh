#!/bin/sh
# certs.sh [DIR] - throwaway certificates for local play with tls:// and
# enet+tls:// (`make certs` writes them to certs/, which git ignores).
#
#   DIR/ca.pem                 the CA to trust (client: ca_file; server: ca_file for mTLS)
#   DIR/server.pem server.key  CN=localhost, SAN DNS:localhost IP:127.0.0.1 IP:::1
#   DIR/client.pem client.key  CN=player (for mutual TLS)
#
# Extra names for the server certificate: HIVE_CERT_SAN="DNS:game.lan,IP:192.168.1.5".
# Valid for HIVE_CERT_DAYS (default 30) days. The CA key is deleted at the end,
# so these certificates can never be used to sign anything else.
# NEVER commit the keys; NEVER use these outside local testing.
set -e
DIR=${1:-certs}
DAYS=${HIVE_CERT_DAYS:-30}
SAN="DNS:localhost,IP:127.0.0.1,IP:::1"
[ -n "$HIVE_CERT_SAN" ] && SAN="$SAN,$HIVE_CERT_SAN"
command -v openssl >/dev/null || { echo "certs.sh: the openssl program is missing (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$DIR"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# CA
key "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$DAYS" -subj "/O=Hive Local/CN=Hive Local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$DIR/ca.pem"

# leaf NAME CN EKU [SAN]
leaf() {
    key "$DIR/$1.key"
    openssl req -new -key "$DIR/$1.key" -subj "/O=Hive Local/CN=$2" -out "$tmp/$1.csr"
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature"
        echo "extendedKeyUsage=$3"
        echo "subjectKeyIdentifier=hash"
        echo "authorityKeyIdentifier=keyid"
        [ -n "$4" ] && echo "subjectAltName=$4"
    } > "$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$DIR/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
        -CAserial "$tmp/ca.srl" -days "$DAYS" -sha256 -extfile "$tmp/$1.ext" -out "$DIR/$1.pem" 2>/dev/null
}

leaf server localhost serverAuth "$SAN"
leaf client player clientAuth
chmod 644 "$DIR/ca.pem" "$DIR/server.pem" "$DIR/client.pem"
openssl verify -CAfile "$DIR/ca.pem" "$DIR/server.pem" "$DIR/client.pem" >/dev/null
echo "certs.sh: wrote $DIR/ca.pem, $DIR/server.pem + server.key, $DIR/client.pem + client.key (valid $DAYS days)"
