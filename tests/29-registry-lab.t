#!/bin/bash
# 29-registry-lab: lab 02's setup and checker, run the way a learner would:
# a good run (curl by hand, then cutaway-image with a trace) scores full
# marks; wrong answers and a missing trace get BAD lines; stop leaves
# nothing running.
source "$(dirname "$0")/lib/tap.sh"
for t in docker-registry skopeo curl jq openssl; do
  command -v $t >/dev/null || skip_all "$t not installed"
done
[[ -x $TOP/build/tests/helpers/registry_tokend ]] || skip_all "token issuer not built (make)"
tap_tmproot
export LAB02_DIR=$T/lab
LABDIR=$TOP/labs/02-registry
on_exit "$LABDIR/setup stop"

ok "setup start" "$LABDIR/setup" start
eval "$("$LABDIR/setup" env)"
[[ -n ${REG:-} && -n ${TAG:-} ]] && pass "setup env gives REG and TAG" || fail "setup env"
out=$("$LABDIR/check" 2>&1)
like "$out" "the lab registry is up: GOOD" "fresh lab: the registry check is GOOD"
like "$out" "secret.*BAD|blob, fetched and read by hand: BAD" "fresh lab: nothing answered yet is BAD"

# The good learner, as the README tells it.
mkdir -p "$LAB/answers"
TOKEN=$(curl -s "$REALM?service=cutaway-registry&scope=repository:lab/hello:pull" | jq -r .token)
curl -s -H "Authorization: Bearer $TOKEN" -H "Accept: application/vnd.oci.image.manifest.v1+json" \
  "http://$REG/v2/lab/hello/manifests/$TAG" -o "$LAB/manifest.json"
echo "sha256:$(sha256sum <"$LAB/manifest.json" | cut -d' ' -f1)" >"$LAB/answers/manifest-digest"
L1=$(jq -r '.layers[0].digest' "$LAB/manifest.json")
L2=$(jq -r '.layers[1].digest' "$LAB/manifest.json")
curl -sL -H "Authorization: Bearer $TOKEN" "http://$REG/v2/lab/hello/blobs/$L1" -o "$LAB/layer1.tar.gz"
is "sha256:$(sha256sum <"$LAB/layer1.tar.gz" | cut -d' ' -f1)" "$L1" "the blob fetched by hand hashes to its digest"
tar -xzOf "$LAB/layer1.tar.gz" ./lab/token >"$LAB/answers/secret"
curl -sL -H "Authorization: Bearer $TOKEN" "http://$REG/v2/lab/hello/blobs/$L2" |
  tar -tzf - | sed -n 's|^\./lab/\.wh\.||p' >"$LAB/answers/whiteout"
export CUTAWAY_TRACE=$LAB/trace.jsonl
ok "pull --unpack with a trace" cutaway-image --layout "$LAB/layout" pull -q --unpack "$LAB/rootfs" "$REG/lab/hello:$TAG"
ok "pull the hostile image" cutaway-image --layout "$LAB/layout" pull -q --unpack "$LAB/evil" "$REG/lab/evil:$TAG"
landed=$(find "$LAB/evil" -name pwned)
[[ -n $landed ]] && echo "$landed" >"$LAB/answers/symlink-landed" || echo refused >"$LAB/answers/symlink-landed"
out=$("$LABDIR/check" 2>&1)
rc=$?
is "$rc" 0 "the good run passes"
like "$out" "Score: 100/100" "... with full marks"
out=$("$LABDIR/check" trace 2>&1)
like "$out" "read through its trace: GOOD" "one check by name"

# The bad learner: a guessed secret, a stale trace, a wrong whiteout.
echo secret-000000000000 >"$LAB/answers/secret"
echo doomed-nope >"$LAB/answers/whiteout"
mv "$LAB/trace.jsonl" "$LAB/trace.saved"
jq -c 'select(.name != "auth.token")' "$LAB/trace.saved" >"$LAB/trace.jsonl"
out=$("$LABDIR/check" 2>&1)
rc=$?
isnt_zero() { [[ $1 != 0 ]]; }
ok "the bad run fails" isnt_zero "$rc"
like "$out" "read by hand: BAD" "a guessed secret is BAD"
like "$out" "whiteout in layer 2: BAD" "a wrong whiteout is BAD"
like "$out" "auth.token' does not come after" "a trace without the token fetch is BAD"
rm -f "$LAB/trace.jsonl"
like "$("$LABDIR/check" trace 2>&1)" "no .*trace.jsonl" "no trace at all is BAD"

pids="$(cat "$LAB/registry.pid" "$LAB/tokend.pid")"
ok "setup stop" "$LABDIR/setup" stop
alive=0
for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
is "$alive" 0 "stop left no registry or token issuer running"
[[ ! -e $LAB ]] && pass "the lab directory is gone" || fail "lab dir left"
done_testing
