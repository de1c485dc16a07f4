#!/usr/bin/env bash
# Benchmark for issue #3 point 6: `linkaudit scan` against `scanelf -R -n -i` (pax-utils) on the
# same trees, and the musl static build against the gnu build, side by side in one hyperfine run.
# Prints medians; writes bench/scan-results.md (--export-markdown) and scan-results.json.
# Usage: crates/linkaudit/bench/scan.sh [DIR...]   (default: /usr/bin /usr/lib)
# Needs: hyperfine, scanelf (apt-get install hyperfine pax-utils), rustup target x86_64-unknown-linux-musl.
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
workspace=$(cd "$bench_dir/../../.." && pwd)
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(/usr/bin /usr/lib)
runs=${RUNS:-15}

# Each build in its own target dir, so this script never fights over locks with test runs.
target_dir="$workspace/target/bench"
cd "$workspace"
env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS cargo build --quiet --release -p linkaudit \
  --target x86_64-unknown-linux-gnu --target x86_64-unknown-linux-musl --target-dir "$target_dir"
gnu="$target_dir/x86_64-unknown-linux-gnu/release/linkaudit"
musl="$target_dir/x86_64-unknown-linux-musl/release/linkaudit"
"$gnu" --policy static "$musl" >/dev/null || { echo "the musl build is not static" >&2; exit 1; }

echo "$(nproc) cores; $("$gnu" scan "${dirs[@]}" | head -1)"
hyperfine -N --warmup 3 --runs "$runs" --ignore-failure \
  --export-markdown "$bench_dir/scan-results.md" --export-json "$bench_dir/scan-results.json" \
  -n "scanelf -R -n -i" "scanelf -R -n -i ${dirs[*]}" \
  -n "linkaudit scan (gnu)" "$gnu scan ${dirs[*]}" \
  -n "linkaudit scan (musl static)" "$musl scan ${dirs[*]}" \
  -n "linkaudit scan --json (gnu)" "$gnu scan --json ${dirs[*]}" \
  -n "linkaudit scan --json (musl static)" "$musl scan --json ${dirs[*]}"

# hyperfine's table shows means; the medians are in its JSON.
python3 - "$bench_dir/scan-results.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print("\nmedians:")
for r in results:
    print(f"  {r['command']:<40} {r['median'] * 1000:8.1f} ms  (min {r['min'] * 1000:.1f}, max {r['max'] * 1000:.1f}, {len(r['times'])} runs)")
PY
