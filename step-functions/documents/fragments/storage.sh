# storage_setup PLAN DIR: what a plan says of the storage the backup's objects are in, for curl:
# DIR/key holds the data key (base64) when the objects are encrypted, and DIR/storage.curl an
# SFTP server's account and the only host key trusted (empty for S3, whose URLs are presigned).
# Both stay in the caller's private scratch folder, removed when the command ends.
storage_setup() {
  local user password hostkey
  awk '$1 == "key" { print $2 }' "$1" >"$2/key"
  : >"$2/storage.curl"
  user="$(awk '$1 == "sftp-user" { print $2 }' "$1" | base64 -d)"
  if [ -n "$user" ]; then
    password="$(awk '$1 == "sftp-password" { print $2 }' "$1" | base64 -d)"
    hostkey="$(awk '$1 == "sftp-hostkey" { print $2 }' "$1")"
    printf 'user = "%s:%s"\nhostpubsha256 = "%s"\n' "$(curl_quoted "$user")" "$(curl_quoted "$password")" \
      "$hostkey" >"$2/storage.curl"
  fi
}

# curl_quoted TEXT: TEXT as it goes between double quotes in a curl config file
curl_quoted() { printf '%s' "$1" | sed 's/[\\"]/\\&/g'; }
