#!/usr/bin/env bash
# Has c2patool (the C2PA reference command line) check the manifests aigcmark writes, in every
# format that gets one: without trust anchors it must report nothing but an untrusted signer, and
# with aigcmark's test CA as its anchor the manifest must be Trusted. Our own verify must still
# say labeled_intact with a valid manifest.
#
#   scripts/c2patool-check.sh [C2PATOOL]
#
# c2patool 0.28 needs Rust 1.96; the newest line that builds with 1.95 is
#   cargo install c2patool@0.26.30 --locked --root /opt/c2patool    (about 20 min)
# Needs ImageMagick (/usr/bin/convert) and ffmpeg for the inputs; not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL="${1:-/opt/c2patool/bin/c2patool}"
[ -x "$TOOL" ] || { echo "c2patool-check: no c2patool at $TOOL (see the comment above)" >&2; exit 2; }
cargo build -q --features c2pa --bin aigcmark
B="$PWD/target/debug/aigcmark"
P=001191000000MA00DEMO0X10000
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
"$B" keygen --out "$D/k" --producer "$P" >/dev/null
"$B" keygen --c2pa "$D/c" >/dev/null
/usr/bin/convert samples/coffee.png -resize 50% "$D/in.jpg"
/usr/bin/convert samples/coffee.png -resize 50% "$D/in.webp"
cp samples/coffee.png "$D/in.png"
cp samples/speech.wav "$D/in.wav"
ffmpeg -v error -y -i samples/speech.wav -c:a libmp3lame -b:a 128k "$D/in.mp3"
fail=0
for ext in jpg png webp wav mp3; do
  out="$D/out.$ext"
  "$B" label "$D/in.$ext" -o "$out" --key "$D/k/signing.key" --producer "$P" \
    --c2pa-cert "$D/c/c2pa-chain.pem" --c2pa-key "$D/c/c2pa-signing.key" >/dev/null 2>&1
  plain=$("$TOOL" "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("validation_state"), ",".join(s["code"] for s in d.get("validation_status") or []))')
  trusted=$("$TOOL" "$out" trust --trust_anchors "$D/c/c2pa-ca.pem" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("validation_state"), ",".join(s["code"] for s in d.get("validation_status") or []))')
  ours=$("$B" verify "$out" --trust "$D/k/trust.json" --c2pa-trust "$D/c/c2pa-ca.pem" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["verdict"], (d.get("c2pa") or {}).get("status"))')
  echo "$ext: c2patool [$plain] with our CA [$trusted]; aigcmark [$ours]"
  [ "$plain" = "Valid signingCredential.untrusted" ] && [ "$trusted" = "Trusted " ] && [ "$ours" = "labeled_intact valid" ] || fail=1
done
exit $fail
