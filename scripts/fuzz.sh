#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each (default 60) with cargo-fuzz on the
# nightly toolchain, seeded from fuzz/regressions/<target>/. New crashes land in
# fuzz/artifacts/<target>/; copy the minimised input into fuzz/regressions/<target>/ once fixed,
# where `cargo test` replays it for good.
#
#   scripts/fuzz.sh              # all targets, 60 s each
#   SECONDS_EACH=600 scripts/fuzz.sh png jpeg
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
each=${SECONDS_EACH:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
  echo "== $t ($each s)"
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$each" -max_len=262144 -rss_limit_mb=2048 -timeout=10 2>&1 \
    | grep -E '^(Done|#[0-9]+ *DONE|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' || true
done
