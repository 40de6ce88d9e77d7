#!/usr/bin/env bash
# Rebuilds every workload's committed .wasm module from its C source.
#
# Usage: workloads/build.sh            (from any directory)
#   CC=...            compiler to use (default clang)
#   WASI_SYSROOT=...  a wasi-libc sysroot to pass as --sysroot (default: Debian's wasi-libc,
#                     which Debian's clang finds without one)
#
# Workloads are listed in WORKLOADS below, one line each: "<folder> <module> <sources...>",
# paths relative to workloads/<folder>/. To add a C workload, add its line. Every module is
# built the same way:
#   clang --target=wasm32-wasi -mexec-model=reactor -O2 [--sysroot=...] -Wall -Wextra \
#         -Wl,--strip-debug -o <module> <sources>
# (wasm32-wasi reactor: exports _initialize plus whatever the source exports with
# __attribute__((export_name(...))); imports only wasi_snapshot_preview1; defines its memory).
# -Wl,--strip-debug drops the DWARF sections that Debian's prebuilt wasi-libc objects would
# otherwise bring in (about 60% of each module); the "name" section (function names, for
# readable trap stack traces) and the "producers" section are kept. Nothing else is stripped.
#
# Toolchain (Debian packages): clang, lld (wasm-ld), wasi-libc (the sysroot) and
# libclang-rt-dev-wasm32 (compiler-rt builtins for wasm32, matching Debian's default clang).
# Missing packages are installed with apt-get when running as root; otherwise the script prints
# the apt-get command to run and fails.
set -euo pipefail

WORKLOADS=(
    "json-stats json-stats.wasm json_stats.c"
    "counter counter.wasm counter.c"
)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CC="${CC:-clang}"

# ---- toolchain ----------------------------------------------------------------------------

# The wasi-libc sysroot: Debian's wasi-libc installs into the multiarch directories
# /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi, which Debian's clang searches by itself;
# other layouts (upstream wasi-sdk, newer Debian) use a sysroot directory that must be named.
sysroot_flags() {
    if [[ -n "${WASI_SYSROOT:-}" ]]; then
        echo "--sysroot=$WASI_SYSROOT"
    elif [[ -f /usr/include/wasm32-wasi/wasi/api.h ]]; then
        :
    elif [[ -f /usr/share/wasi-sysroot/include/wasi/api.h ]]; then
        echo "--sysroot=/usr/share/wasi-sysroot"
    elif [[ -f /usr/share/wasi-sysroot/include/wasm32-wasi/wasi/api.h ]]; then
        echo "--sysroot=/usr/share/wasi-sysroot"
    fi
}

have_wasi_libc() {
    [[ -n "${WASI_SYSROOT:-}" && -f "$WASI_SYSROOT/include/wasi/api.h" ]] ||
        [[ -f /usr/include/wasm32-wasi/wasi/api.h ]] ||
        [[ -f /usr/share/wasi-sysroot/include/wasi/api.h ]] ||
        [[ -f /usr/share/wasi-sysroot/include/wasm32-wasi/wasi/api.h ]]
}

have_builtins() {
    command -v "$CC" >/dev/null 2>&1 || return 1
    local rt
    rt="$("$CC" --target=wasm32-wasi -print-libgcc-file-name 2>/dev/null)" || return 1
    [[ -f "$rt" ]]
}

ensure_toolchain() {
    local missing=()
    command -v "$CC" >/dev/null 2>&1 || missing+=(clang)
    command -v wasm-ld >/dev/null 2>&1 || missing+=(lld)
    have_wasi_libc || missing+=(wasi-libc)
    # Checked with the clang that will be installed, so always listed when clang is missing.
    if [[ " ${missing[*]} " == *" clang "* ]] || ! have_builtins; then
        missing+=(libclang-rt-dev-wasm32)
    fi
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        echo "build.sh: missing toolchain packages: ${missing[*]}" >&2
        echo "build.sh: install them with: apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "build.sh: installing ${missing[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# ---- build --------------------------------------------------------------------------------

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

ensure_toolchain

read -r -a sysroot <<<"$(sysroot_flags)"
echo "build.sh: $("$CC" --version | head -n1)"

for entry in "${WORKLOADS[@]}"; do
    read -r -a parts <<<"$entry"
    folder="${parts[0]}" module="${parts[1]}" sources=("${parts[@]:2}")
    dir="$here/$folder"
    cmd=("$CC" --target=wasm32-wasi -mexec-model=reactor -O2 ${sysroot[@]+"${sysroot[@]}"}
        -Wall -Wextra -Wl,--strip-debug -o "$module" "${sources[@]}")
    echo "build.sh: (cd workloads/$folder && ${cmd[*]})"
    (cd "$dir" && "${cmd[@]}")
    chmod a-x "$dir/$module" # wasm-ld marks its output executable; it is data
    printf '%-40s %8d bytes  sha256 %s\n' "workloads/$folder/$module" \
        "$(wc -c <"$dir/$module")" "$(sha256 "$dir/$module")"
done
