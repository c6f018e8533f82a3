#!/bin/bash
# 27-registry-auth: credentials and transport security against Debian's
# docker-registry: htpasswd Basic auth, token auth (a test token issuer
# signs JWTs the registry verifies), login/logout in docker's config.json
# format under DOCKER_CONFIG, and TLS with a test CA.
source "$(dirname "$0")/lib/tap.sh"
source "$(dirname "$0")/lib/registry.sh"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
command -v htpasswd >/dev/null || skip_all "htpasswd (apache2-utils) not installed"
command -v umoci >/dev/null || skip_all "umoci not installed"
[[ -x $REG_HELPERS/registry_tokend ]] || skip_all "token issuer not built (make)"
tap_tmproot
export DOCKER_CONFIG=$T/docker
I=(cutaway-image --layout "$T/lay")

reg_start plain plain || { fail "registry starts"; done_testing; exit 1; }
PLAIN=$REG
reg_fixture "$T/oci" img 2 32
reg_push_skopeo "$T/oci:img" test/img:v1 >/dev/null
ok "pull the fixture" "${I[@]}" pull -q "$PLAIN/test/img:v1"
SRC=$PLAIN/test/img:v1

# ---- Basic (htpasswd)
reg_start basic basic || fail "basic registry starts"
B=$REG
out=$("${I[@]}" push "$SRC" "$B/b/img:v1" 2>&1)
like "$out" "authentication required" "push without credentials: a clear error"
out=$(echo wrong | "${I[@]}" login -u alice --password-stdin "$B" 2>&1)
like "$out" "401" "login with a wrong password fails"
[[ ! -e $DOCKER_CONFIG/config.json ]] && pass "... and stores nothing" || fail "config written"
out=$(echo s3cret | "${I[@]}" login -u alice --password-stdin "$B" 2>&1)
like "$out" "Login Succeeded" "login with the right password"
is "$(stat -c %a "$DOCKER_CONFIG/config.json")" 600 "config.json is 0600"
is "$(jq -r --arg r "$B" '.auths[$r].auth' "$DOCKER_CONFIG/config.json")" \
  "$(printf alice:s3cret | base64)" "docker's format: auths.<registry>.auth = base64(user:pass)"
ok "push with the stored credentials" "${I[@]}" push -q "$SRC" "$B/b/img:v1"
ok "pull with them" cutaway-image --layout "$T/lay-b" pull -q "$B/b/img:v1"
ok "skopeo reads it with the same credentials" \
  skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$B/b/img:v1"
out=$("${I[@]}" logout "$B" 2>&1)
like "$out" "Removing login credentials" "logout"
is "$(jq -r --arg r "$B" '.auths[$r] // "none"' "$DOCKER_CONFIG/config.json")" none "credentials gone"
out=$(cutaway-image --layout "$T/lay-b2" pull "$B/b/img:v1" 2>&1)
like "$out" "authentication required" "pull after logout needs credentials again"

# ---- Token auth
reg_start tok token || fail "token registry starts"
TK=$REG
out=$("${I[@]}" push "$SRC" "$TK/t/img:v1" 2>&1)
like "$out" "POST 401" "anonymous token cannot push"
like "$(cat "$REG_DIR/tokend.log")" "auth=no tp=yes scope=repository:t/img:pull,push" \
  "the token request asked for pull,push on the repository"
ok "login through the token server" \
  bash -c "echo s3cret | cutaway-image login -u alice --password-stdin $TK"
ok "push with a token" "${I[@]}" push -q "$SRC" "$TK/t/img:v1"
like "$(tail -n 1 "$REG_DIR/tokend.log")" "auth=yes tp=yes scope=repository:t/img:pull,push" \
  "credentials went to the token server, with the push scope"
"${I[@]}" logout "$TK" >/dev/null 2>&1
: >"$T/trace.jsonl"
ok "anonymous pull gets a pull token" cutaway-image --layout "$T/lay-t" pull -q "$TK/t/img:v1"
like "$(tail -n 1 "$REG_DIR/tokend.log")" "auth=no tp=yes scope=repository:t/img:pull$" "scope is pull only"
is "$(grep -c 'tp=no' "$REG_DIR/tokend.log")" 0 "every token request carried a traceparent header"
tr=$T/trace.jsonl
is "$(jq -r 'select(.ev=="event" and .name=="auth.challenge") | .attrs.www_authenticate' "$tr" |
  grep -c 'Bearer realm=')" 1 "the challenge is in the trace"
like "$(jq -r 'select(.ev=="begin") | .name' "$tr" | tr '\n' ' ')" \
  "GET /v2/ auth.token GET /token .*GET /v2/t/img/manifests/v1" "ping, token, then the manifest"
out=$(echo bad | "${I[@]}" login -u alice --password-stdin "$TK" 2>&1)
like "$out" "token: GET 401" "a wrong password is refused by the token server"

# ---- TLS with a test CA
reg_start tls tls || fail "TLS registry starts"
TL=$REG
mkdir -p "$T/certs/$TL"
cp "$REG_DIR/ca/ca.crt" "$T/certs/$TL/ca.crt"
ok "push over TLS, verified against the test CA" \
  "${I[@]}" --certs-dir "$T/certs" push -q "$SRC" "$TL/s/img:v1"
: >"$T/trace.jsonl"
ok "pull over TLS, verified" cutaway-image --certs-dir "$T/certs" --layout "$T/lay-s" pull -q "$TL/s/img:v1"
like "$(jq -r 'select(.ev=="begin" and .kind=="client") | .attrs.url' "$T/trace.jsonl" | sort -u | head -1)" \
  "^https://$TL/" "every request went over https"
mkdir -p "$T/wrong/$TL"
cp "$T/tok/token.crt" "$T/wrong/$TL/ca.crt"
out=$(cutaway-image --certs-dir "$T/wrong" --layout "$T/lay-w" pull "$TL/s/img:v1" 2>&1)
like "$out" "SSL certificate problem" "a certificate from another CA is refused"
[[ ! -e $T/lay-w/index.json ]] || [[ $(jq '.manifests|length' "$T/lay-w/index.json") == 0 ]] &&
  pass "... and nothing is stored" || fail "stored something"
done_testing
