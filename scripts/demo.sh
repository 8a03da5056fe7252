#!/usr/bin/env bash
# Labels every bundled sample with the demo key, countersigns one as a platform, and verifies all
# of them against the demo trust store. Output goes to target/demo/. Exit code: that of verify.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "demo: building aigcmark (release; the first build takes a few minutes)" >&2
cargo build --release --quiet
echo "demo: labeling samples/ into target/demo/" >&2
bin=target/release/aigcmark
out=target/demo
rm -rf "$out" && mkdir -p "$out"
producer=001191000000MA00DEMO0X10000
platform=001191000000MA00DEMO0X20000

for f in samples/*; do
  [ -f "$f" ] || continue
  case "$f" in *.json|*/README.md) continue ;; esac
  name=$(basename "$f")
  "$bin" label "$f" -o "$out/$name" --key samples/demo-key/signing.key --producer "$producer" --explicit
done
first=$(ls "$out" | head -n 1)
"$bin" propagate "$out/$first" -o "$out/propagated-$first" --key samples/demo-platform-key/signing.key --propagator "$platform"
echo
"$bin" verify --trust samples/demo-trust.json "$out"/*
