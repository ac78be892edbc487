#!/bin/sh
# Used while building the kafka image (deploy/docker/infra.Dockerfile), never at runtime:
#   java-truststore.sh BUNDLE OUT
# Writes OUT, a copy of the JRE's truststore (/etc/ssl/certs/java/cacerts) plus every certificate of the PEM
# BUNDLE that the image's own CA bundle lacks: Maven then trusts a TLS-inspecting proxy's CA passed as the optional
# build secret `ca`. Only the missing certificates go through keytool (one JVM each), usually one or two.
set -eu
bundle=$1
out=$2
work=$(mktemp -d)
cp /etc/ssl/certs/java/cacerts "$out"
awk -v dir="$work" '/-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/%04d.pem", dir, n) }
  file { print > file } /-----END CERTIFICATE-----/ { close(file); file = "" }' "$bundle"
known=$(mktemp)
awk -v dir="$work/known" 'BEGIN { system("mkdir -p " dir) } /-----BEGIN CERTIFICATE-----/ { n++; file = sprintf("%s/%04d.pem", dir, n) }
  file { print > file } /-----END CERTIFICATE-----/ { close(file); file = "" }' /etc/ssl/certs/ca-certificates.crt
for cert in "$work"/known/*.pem; do openssl x509 -noout -fingerprint -sha256 -in "$cert"; done >"$known"
added=0
for cert in "$work"/*.pem; do
  [ -f "$cert" ] || continue
  fingerprint=$(openssl x509 -noout -fingerprint -sha256 -in "$cert" 2>/dev/null) || continue
  grep -qxF "$fingerprint" "$known" && continue
  keytool -importcert -noprompt -storepass changeit -keystore "$out" -alias "extra-$(basename "$cert" .pem)" \
    -file "$cert" >/dev/null
  added=$((added + 1))
done
rm -rf "$work" "$known"
echo "java-truststore: $added certificate(s) of $bundle added to $out"
