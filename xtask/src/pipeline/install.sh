#!/bin/sh
# Installer for @PACKAGES@ @VERSION@, written by `cargo xtask dist` from
# xtask/src/pipeline/install.sh. POSIX sh: runs under dash, bash, busybox ash and macOS's sh.
#
#   curl -LsSf @REPO_URL@/releases/latest/download/install.sh | sh
#
# On Linux it installs the static musl build unless asked for gnu: a glibc-linked binary fails on
# NixOS, Alpine and distros older than its glibc, the static one runs everywhere. Every archive is
# checked against its .sha256 before anything is installed.
set -eu

PACKAGES='@PACKAGES@'
VERSION='@VERSION@'
REPO_URL='@REPO_URL@'

# The binaries in each package's archive.
binaries_of() {
    case "$1" in
@BINARIES_CASE@
    esac
}

usage() {
    cat <<EOF
install.sh: install $PACKAGES $VERSION from $REPO_URL

Usage: install.sh [--libc musl|gnu] [--to DIR] [--version VERSION|latest] [--base-url URL]
       curl -LsSf URL/install.sh | sh -s -- [OPTIONS]

  --libc musl|gnu    Linux only. musl (the default) is fully static and runs on
                     any distro; gnu needs glibc @GLIBC_FLOOR@ or later.
                     Environment: INSTALLER_LIBC.
  --to DIR           Where the binaries go. Default: \$CARGO_HOME/bin when
                     CARGO_HOME is set, else ~/.local/bin. Environment: INSTALLER_TO.
  --version V        The release to install: a version (tag vV), or latest for
                     the newest release. Default: $VERSION. Environment: INSTALLER_VERSION.
  --base-url URL     The directory that holds the archives and their .sha256
                     files, for a mirror or a local server; replaces --version.
                     Environment: INSTALLER_BASE_URL.
                     Default: $REPO_URL/releases/download/v$VERSION
  -h, --help         This text.

It detects the operating system and architecture (Linux and macOS on x86_64
and aarch64), downloads <package>-<target>.tar.gz and its .sha256 with curl
(or wget when curl is missing), checks the sha256 with sha256sum (or shasum),
and only when every archive matches copies the binaries ($(all_binaries)) into
the directory, saying where, with a warning if it is not on PATH. On a
mismatch or any error it installs nothing and exits non-zero.
EOF
}

all_binaries() {
    list=''
    for package in $PACKAGES; do
        for binary in $(binaries_of "$package"); do
            list="${list:+$list }$binary"
        done
    done
    printf '%s\n' "$list"
}

say() { printf 'install.sh: %s\n' "$*" >&2; }
fail() {
    say "error: $*"
    exit 1
}

libc="${INSTALLER_LIBC:-musl}"
dest="${INSTALLER_TO:-}"
version="${INSTALLER_VERSION:-$VERSION}"
base_url="${INSTALLER_BASE_URL:-}"

while [ $# -gt 0 ]; do
    case "$1" in
        --libc | --to | --version | --base-url)
            [ $# -ge 2 ] || fail "$1 needs a value; see install.sh --help"
            option="$1"
            value="$2"
            shift 2
            ;;
        --libc=* | --to=* | --version=* | --base-url=*)
            option="${1%%=*}"
            value="${1#*=}"
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) fail "unknown option '$1'; see install.sh --help" ;;
    esac
    case "$option" in
        --libc) libc="$value" ;;
        --to) dest="$value" ;;
        --version) version="$value" ;;
        --base-url) base_url="$value" ;;
    esac
done

case "$libc" in
    musl | gnu) ;;
    *) fail "--libc must be musl or gnu, not '$libc'" ;;
esac
if [ -z "$base_url" ]; then
    case "$version" in
        latest) base_url="$REPO_URL/releases/latest/download" ;;
        v*) base_url="$REPO_URL/releases/download/$version" ;;
        '') fail "--version needs a version such as $VERSION, or latest" ;;
        *) base_url="$REPO_URL/releases/download/v$version" ;;
    esac
fi
base_url="${base_url%/}"

detect_target() {
    os=$(uname -s) || fail "uname failed: cannot tell the operating system"
    arch=$(uname -m) || fail "uname failed: cannot tell the architecture"
    case "$os" in
        Linux) os_part="unknown-linux-$libc" ;;
        Darwin) os_part="apple-darwin" ;;
        MINGW* | MSYS* | CYGWIN* | Windows*)
            fail "this installer is for Linux and macOS; on Windows download the .zip archive from $REPO_URL/releases"
            ;;
        *) fail "unsupported operating system '$os': builds exist for Linux and macOS; build from source with cargo install" ;;
    esac
    case "$arch" in
        x86_64 | amd64) arch=x86_64 ;;
        aarch64 | arm64) arch=aarch64 ;;
        *) fail "unsupported architecture '$arch': builds exist for x86_64 and aarch64; build from source with cargo install" ;;
    esac
    target="$arch-$os_part"
}

detect_target

# https only, unless the user asked for a plain http base URL (a local mirror).
case "$base_url" in
    http://*)
        curl_proto='=http,https'
        say "warning: downloading over plain http from $base_url"
        ;;
    *) curl_proto='=https' ;;
esac

download() {
    # $1 = URL, $2 = file
    if command -v curl >/dev/null 2>&1; then
        curl --proto "$curl_proto" -fsSL -o "$2" "$1" || fail "download of $1 failed (curl); check the URL, or pick another release with --version"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1" || fail "download of $1 failed (wget); check the URL, or pick another release with --version"
    else
        fail "neither curl nor wget is installed; install one of them"
    fi
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        fail "neither sha256sum nor shasum is installed; cannot check the download"
    fi
}

if [ -z "$dest" ]; then
    if [ -n "${CARGO_HOME:-}" ]; then
        dest="$CARGO_HOME/bin"
    elif [ -n "${HOME:-}" ]; then
        dest="$HOME/.local/bin"
    else
        fail "HOME is not set; say where to install with --to DIR"
    fi
fi
command -v tar >/dev/null 2>&1 || fail "tar is not installed; install it"

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t install-sh) || fail "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The checksum only says the archive is the one the release lists; these say it holds what the
# release writer makes, so that a release whose checksums were rewritten along with the archive
# installs nothing that `linkaudit verify` refuses. The archive holds its top directory and
# plain files directly in it, each name once (a second entry of a name, or a second gzip member,
# would overwrite the first on unpacking); nothing outside, nothing nested, no `..`.
check_entries() {
    tar -tzf "$tmp/$archive" >"$tmp/listing" || fail "cannot read $archive; nothing was installed"
    twice=$(sort "$tmp/listing" | uniq -d | head -n 1)
    [ -z "$twice" ] || fail "$archive holds $twice twice; nothing was installed"
    while IFS= read -r name; do
        case "$name" in
            "$1/") ;;
            *..* | "$1/"*/?*) fail "$archive holds $name, below its top directory or with ..; nothing was installed" ;;
            "$1/"?*) ;;
            *) fail "$archive holds $name, outside $1/; nothing was installed" ;;
        esac
    done <"$tmp/listing"
}

# One regular file per binary name, and a binary of this system's format (ELF on Linux, Mach-O
# on macOS), not a script.
check_binary() {
    if [ ! -f "$1" ] || [ -L "$1" ]; then
        fail "$archive holds no ${1##*/}; nothing was installed"
    fi
    magic=$(od -An -tx1 -N4 "$1" | tr -d ' \n')
    case "$target:$magic" in
        *-linux-*:7f454c46 | *-darwin:cffaedfe | *-darwin:cefaedfe | *-darwin:cafebabe) ;;
        *) fail "$archive holds ${1##*/}, which is not a binary for $target; nothing was installed" ;;
    esac
}

# Download, check and unpack every archive before installing anything: a mismatch or a missing
# binary leaves the destination untouched.
for package in $PACKAGES; do
    archive="$package-$target.tar.gz"
    say "downloading $base_url/$archive"
    download "$base_url/$archive" "$tmp/$archive"
    download "$base_url/$archive.sha256" "$tmp/$archive.sha256"
    expected=$(cut -d ' ' -f 1 <"$tmp/$archive.sha256")
    case "$expected" in
        *[!0-9a-f]* | '') fail "$archive.sha256 holds no sha256; nothing was installed" ;;
    esac
    actual=$(sha256_of "$tmp/$archive")
    [ "$expected" = "$actual" ] ||
        fail "checksum mismatch for $archive: expected $expected, got $actual; nothing was installed"
    say "checked $archive (sha256 $actual)"
    check_entries "$package-$target"
    mkdir -p "$tmp/unpacked"
    tar -xzf "$tmp/$archive" -C "$tmp/unpacked" || fail "cannot unpack $archive; nothing was installed"
    odd=$(find "$tmp/unpacked" ! -type f ! -type d | head -n 1)
    [ -z "$odd" ] || fail "$archive holds ${odd#"$tmp/unpacked/"}, a link or special file; nothing was installed"
    for binary in $(binaries_of "$package"); do
        check_binary "$tmp/unpacked/$package-$target/$binary"
    done
done

mkdir -p "$dest" || fail "cannot create $dest; choose another directory with --to"
dest=$(cd "$dest" && pwd) || fail "cannot enter $dest; choose another directory with --to"
for package in $PACKAGES; do
    for binary in $(binaries_of "$package"); do
        # Copy under a temporary name, then rename: a running copy of the old binary is never
        # overwritten in place, and an interrupted copy never sits under the real name.
        staged="$dest/.$binary.install-$$"
        if ! { cp "$tmp/unpacked/$package-$target/$binary" "$staged" && chmod 755 "$staged" &&
            mv -f "$staged" "$dest/$binary"; }; then
            rm -f "$staged"
            fail "cannot write to $dest; choose another directory with --to"
        fi
        say "installed $binary ($target) to $dest/$binary"
    done
done

case ":$PATH:" in
    *":$dest:"*) ;;
    *) say "warning: $dest is not on PATH; add it, e.g. export PATH=\"$dest:\$PATH\"" ;;
esac
