#!/bin/sh
# A self-signed certificate for trying the compose stack on localhost (not for production).
set -eu
dir="${1:-deploy/nginx/certs}"
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
  -keyout "$dir/tidings.key" -out "$dir/tidings.crt"
