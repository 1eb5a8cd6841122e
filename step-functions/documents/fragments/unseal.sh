# unseal TOKEN: a secret the panel sealed to this host's key (layers/crypto/sealed.ts)
unseal() {
  local wrapped iv mac data keys sealed_file
  IFS=: read -r wrapped iv mac data <<<"$1"
  keys="$(printf '%s' "$wrapped" | base64 -d |
    openssl pkeyutl -decrypt -inkey "${VIP_HOST_ROOT:-}/etc/vip/keys/host-key.pem" -pkeyopt rsa_padding_mode:oaep \
      -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 | od -An -tx1 -v | tr -d ' \n')"
  sealed_file="$(mktemp)"
  { printf '%b' "$(printf '%s' "$iv" | sed 's/../\\x&/g')"; printf '%s' "$data" | base64 -d; } >"$sealed_file"
  if [ "$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:${keys:64:64}" -r <"$sealed_file" | cut -d' ' -f1)" != "$mac" ]; then
    rm -f "$sealed_file"
    echo "a sealed secret did not open: it was not sealed to this host's key, or it was changed" >&2
    return 1
  fi
  rm -f "$sealed_file"
  printf '%s' "$data" | base64 -d | openssl enc -d -aes-256-cbc -K "${keys:0:64}" -iv "$iv"
}
