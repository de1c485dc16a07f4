#!/usr/bin/env bash
# Benchmark: `linkaudit scan` against `scanelf -R -n -i` (pax-utils) on the
# same trees, and the musl static build (with mimalloc, and with musl's malloc) against the gnu
# build, side by side in the same hyperfine rounds. Prints and writes bench/scan-results.md (medians
# over all rounds); each round's own hyperfine tables go to bench/scan-round-N.{md,json}.
# Usage: [ROUNDS=10] [RUNS=3] crates/linkaudit/bench/scan.sh [DIR...]   (default: /usr/bin /usr/lib)
# Needs: hyperfine, scanelf (apt-get install hyperfine pax-utils), rustup target x86_64-unknown-linux-musl.
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
workspace=$(cd "$bench_dir/../../.." && pwd)
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(/usr/bin /usr/lib)
runs=${RUNS:-3}

# Each build in its own target dir, so this script never fights over locks with test runs.
target_dir="$workspace/target/bench"
cd "$workspace"
env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS cargo build --quiet --release -p linkaudit \
  --target x86_64-unknown-linux-gnu --target x86_64-unknown-linux-musl --target-dir "$target_dir"
# The musl build as released (mimalloc) and one with musl's own malloc, to show the difference.
env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS cargo build --quiet --release -p linkaudit \
  --no-default-features --features cli --target x86_64-unknown-linux-musl \
  --target-dir "$target_dir/musl-malloc"
gnu="$target_dir/x86_64-unknown-linux-gnu/release/linkaudit"
musl="$target_dir/x86_64-unknown-linux-musl/release/linkaudit"
musl_malloc="$target_dir/musl-malloc/x86_64-unknown-linux-musl/release/linkaudit"
"$gnu" --policy static "$musl" "$musl_malloc" >/dev/null || { echo "the musl build is not static" >&2; exit 1; }

echo "$(nproc) cores; $("$gnu" scan "${dirs[@]}" | head -1)"
# Many short rounds of every command, one after the other: load from other processes on a small
# machine comes and goes, and interleaving spreads it over all commands instead of hitting one.
# Default: 10 rounds x 3 runs (after 1 warm-up) = 30 runs of each command.
rounds=${ROUNDS:-10}
for round in $(seq 1 "$rounds"); do
  hyperfine -N --warmup 1 --runs "$runs" --style none \
    --export-markdown "$bench_dir/scan-round-$round.md" --export-json "$bench_dir/scan-round-$round.json" \
    -n "scanelf -R -n -i" "scanelf -R -n -i ${dirs[*]}" \
    -n "linkaudit scan (gnu)" "$gnu scan ${dirs[*]}" \
    -n "linkaudit scan (musl static, mimalloc)" "$musl scan ${dirs[*]}" \
    -n "linkaudit scan (musl static, musl malloc)" "$musl_malloc scan ${dirs[*]}" \
    -n "linkaudit scan --json (gnu)" "$gnu scan --json ${dirs[*]}" \
    -n "linkaudit scan --json (musl static, mimalloc)" "$musl scan --json ${dirs[*]}"
done

# hyperfine's tables show means per round; the medians over every run of every round go to
# scan-results.md. CPU is user + system time (median of the rounds' means): it moves less than
# wall time when other processes compete for the two cores.
python3 - "$bench_dir" "$rounds" <<'PY'
import json, statistics, sys
bench_dir, rounds = sys.argv[1], int(sys.argv[2])
times, cpu = {}, {}
for round in range(1, rounds + 1):
    for result in json.load(open(f"{bench_dir}/scan-round-{round}.json"))["results"]:
        times.setdefault(result["command"], []).extend(result["times"])
        cpu.setdefault(result["command"], []).append(result["user"] + result["system"])
base = statistics.median(times["scanelf -R -n -i"])
gnu = statistics.median(times["linkaudit scan (gnu)"])
lines = ["| command | median [ms] | min [ms] | max [ms] | runs | vs scanelf | vs gnu build | CPU user+sys [ms] |",
         "|:---|---:|---:|---:|---:|---:|---:|---:|"]
for command, samples in times.items():
    median = statistics.median(samples)
    lines.append(f"| `{command}` | {median * 1000:.1f} | {min(samples) * 1000:.1f} | "
                 f"{max(samples) * 1000:.1f} | {len(samples)} | {median / base:.2f}x | {median / gnu:.2f}x | "
                 f"{statistics.median(cpu[command]) * 1000:.0f} |")
table = "\n".join(lines)
open(f"{bench_dir}/scan-results.md", "w").write(table + "\n")
print(table)
PY
