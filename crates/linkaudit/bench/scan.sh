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
# Several rounds of every command, one after the other: load from other processes on a small
# machine drifts, and interleaving rounds spreads it over all commands instead of one.
rounds=${ROUNDS:-3}
for round in $(seq 1 "$rounds"); do
  hyperfine -N --warmup 3 --runs "$runs" \
    --export-markdown "$bench_dir/scan-round-$round.md" --export-json "$bench_dir/scan-round-$round.json" \
    -n "scanelf -R -n -i" "scanelf -R -n -i ${dirs[*]}" \
    -n "linkaudit scan (gnu)" "$gnu scan ${dirs[*]}" \
    -n "linkaudit scan (musl static)" "$musl scan ${dirs[*]}" \
    -n "linkaudit scan --json (gnu)" "$gnu scan --json ${dirs[*]}" \
    -n "linkaudit scan --json (musl static)" "$musl scan --json ${dirs[*]}"
done

# hyperfine's tables show means per round; the medians over every run of every round go to
# scan-results.md.
python3 - "$bench_dir" "$rounds" <<'PY'
import json, statistics, sys
bench_dir, rounds = sys.argv[1], int(sys.argv[2])
times = {}
for round in range(1, rounds + 1):
    for result in json.load(open(f"{bench_dir}/scan-round-{round}.json"))["results"]:
        times.setdefault(result["command"], []).extend(result["times"])
base = statistics.median(times["scanelf -R -n -i"])
gnu = statistics.median(times["linkaudit scan (gnu)"])
lines = ["| command | median [ms] | min [ms] | max [ms] | runs | vs scanelf | vs gnu build |",
         "|:---|---:|---:|---:|---:|---:|---:|"]
for command, samples in times.items():
    median = statistics.median(samples)
    lines.append(f"| `{command}` | {median * 1000:.1f} | {min(samples) * 1000:.1f} | "
                 f"{max(samples) * 1000:.1f} | {len(samples)} | {median / base:.2f}x | {median / gnu:.2f}x |")
table = "\n".join(lines)
open(f"{bench_dir}/scan-results.md", "w").write(table + "\n")
print(table)
PY
