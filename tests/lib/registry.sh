# registry.sh: start Debian's docker-registry for a test (sourced after tap.sh).
#
#   reg_start NAME [basic|token|tls|tls-basic]   -> $REG (127.0.0.1:PORT), $REG_DIR
#   reg_fixture DIR TAG NLAYERS [KB_PER_LAYER]   -> an OCI layout built with umoci
#   reg_push_skopeo DIR:TAG REPO:TAG             -> skopeo copy into $REG
#
# Everything lives under $T; the registry is stopped by PID in on_exit.
# Token mode expects the issuer helper (build/tests/helpers/registry_tokend),
# started by reg_start on its own port ($TOKEN_URL).

REG_HELPERS=$TOP/build/tests/helpers

# A free TCP port on 127.0.0.1: random, below the kernel's ephemeral range
# (32768-60999, where any outgoing connection may hold a port and make a
# bind fail), and checked against every TCP socket, not only listeners.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

# Wait until something answers on 127.0.0.1:$1 (bounded: 10 s).
wait_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    ss -Hltn "sport = :$1" | grep -q . && return 0
    sleep 0.05
  done
  return 1
}

# A test CA and a server certificate for 127.0.0.1, localhost, registry.test.
reg_make_ca() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cutaway test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null || return 1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:registry.test\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/ext.cnf" -out "$d/server.crt" 2>/dev/null
}

reg_start() {
  local name=$1 mode=${2:-plain}
  REG_DIR=$T/$name
  mkdir -p "$REG_DIR/storage"
  local port
  port=$(free_port)
  REG=127.0.0.1:$port
  {
    echo "version: 0.1"
    echo "log: {level: error, accesslog: {disabled: true}}"
    echo "storage:"
    echo "  filesystem: {rootdirectory: $REG_DIR/storage}"
    echo "  delete: {enabled: true}"
    echo "http:"
    echo "  addr: $REG"
    echo "  secret: cutaway-test-secret"
    case $mode in
    tls | tls-basic)
      reg_make_ca "$REG_DIR/ca" || return 1
      echo "  tls: {certificate: $REG_DIR/ca/server.crt, key: $REG_DIR/ca/server.key}"
      ;;
    esac
    case $mode in
    basic | tls-basic)
      htpasswd -Bbc "$REG_DIR/htpasswd" "${REG_USER:-alice}" "${REG_PASS:-s3cret}" 2>/dev/null
      echo "auth:"
      echo "  htpasswd: {realm: cutaway-test, path: $REG_DIR/htpasswd}"
      ;;
    token)
      local tport
      tport=$(free_port)
      TOKEN_URL=http://127.0.0.1:$tport
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cutaway token issuer" \
        -keyout "$REG_DIR/token.key" -out "$REG_DIR/token.crt" 2>/dev/null || return 1
      "$REG_HELPERS/registry_tokend" --listen "127.0.0.1:$tport" --key "$REG_DIR/token.key" \
        --cert "$REG_DIR/token.crt" --issuer cutaway-test-issuer --service cutaway-registry \
        --user "${REG_USER:-alice}:${REG_PASS:-s3cret}" --log "$REG_DIR/tokend.log" \
        2>>"$REG_DIR/tokend.err" &
      local tpid=$!
      on_exit "kill $tpid; wait $tpid"
      wait_port "$tport" || return 1
      echo "auth:"
      echo "  token:"
      echo "    realm: $TOKEN_URL/token"
      echo "    service: cutaway-registry"
      echo "    issuer: cutaway-test-issuer"
      echo "    rootcertbundle: $REG_DIR/token.crt"
      ;;
    esac
  } >"$REG_DIR/config.yml"
  docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 &
  REG_PID=$!
  on_exit "kill $REG_PID; wait $REG_PID"
  wait_port "$port"
}

# An OCI layout DIR with image TAG of NLAYERS layers of random data
# (KB_PER_LAYER each, default 64), plus a small text file per layer.
reg_fixture() {
  local dir=$1 tag=$2 n=$3 kb=${4:-64} i
  local b=$T/fixture-bundle-$RANDOM
  umoci init --layout "$dir" >/dev/null 2>&1 || return 1
  umoci new --image "$dir:$tag" >/dev/null 2>&1 || return 1
  for ((i = 1; i <= n; i++)); do
    rm -rf "$b"
    umoci unpack --image "$dir:$tag" "$b" >/dev/null 2>&1 || return 1
    mkdir -p "$b/rootfs/data"
    echo "layer $i" >"$b/rootfs/data/layer$i.txt"
    head -c $((kb * 1024)) /dev/urandom >"$b/rootfs/data/blob$i"
    umoci repack --image "$dir:$tag" "$b" >/dev/null 2>&1 || return 1
  done
  rm -rf "$b"
}

reg_push_skopeo() {
  skopeo copy -q --dest-tls-verify=false "oci:$1" "docker://$REG/$2" 2>&1
}
