#!/usr/bin/env bash
# Rebuilds every workload's committed .wasm module from its C or Go source.
#
# Usage: workloads/build.sh            (from any directory)
#   CC=...            compiler to use (default clang)
#   WASI_SYSROOT=...  a wasi-libc sysroot to pass as --sysroot (default: Debian's wasi-libc,
#                     which Debian's clang finds without one)
#   GO=...            the go command for the Go workloads (default go; Go 1.24 or newer)
#
# C reactors are listed in WORKLOADS below and C commands in C_COMMANDS, one line each:
# "<folder> <module> <sources...>", paths relative to workloads/<folder>/. To add a C workload,
# add its line. Every C module is built the same way, with exec model reactor or command:
#   clang --target=wasm32-wasi -mexec-model=reactor -O2 [--sysroot=...] -Wall -Wextra \
#         -Wl,--strip-debug -o <module> <sources>
# (wasm32-wasi reactor: exports _initialize plus whatever the source exports with
# __attribute__((export_name(...))); wasm32-wasi command: exports _start, which runs the
# constructors, main and the destructors, and calls proc_exit only for a non-zero exit code.
# Either imports only wasi_snapshot_preview1 and defines its memory).
# -Wl,--strip-debug drops the DWARF sections that Debian's prebuilt wasi-libc objects would
# otherwise bring in (about 60% of each module); the "name" section (function names, for
# readable trap stack traces) and the "producers" section are kept. Nothing else is stripped.
#
# Go workloads are listed in GO_WORKLOADS, one line each: "<folder> <module> <kind>", kind
# reactor or command; the folder is one package main of this module whose files all carry a
# wasip1 build constraint (so the host build ignores them). Every Go module is built the same
# way, from its folder:
#   GOOS=wasip1 GOARCH=wasm go build [-buildmode=c-shared] -trimpath -buildvcs=false \
#         -ldflags="-s -w" -o <module> .
# -buildmode=c-shared (reactors) makes a WASI reactor: it exports _initialize (starts the Go
# runtime) and the functions marked //go:wasmexport, and main is never called; without it the
# module is a command exporting _start. -s -w drop the symbol table and DWARF; -trimpath and
# -buildvcs=false keep file paths and the git state out of the module, so the same Go version
# builds the same bytes anywhere (GOFLAGS is cleared for the same reason).
#
# Toolchain (Debian packages): clang, lld (wasm-ld), wasi-libc (the sysroot) and
# libclang-rt-dev-wasm32 (compiler-rt builtins for wasm32, matching Debian's default clang).
# Missing packages are installed with apt-get when running as root; otherwise the script prints
# the apt-get command to run and fails. Go (1.24 or newer, for //go:wasmexport) is not
# installed by the script.
set -euo pipefail

WORKLOADS=(
    "json-stats json-stats.wasm json_stats.c"
    "counter counter.wasm counter.c"
    "noop noop.wasm noop.c"
    "leak-probe leak-probe.wasm leak_probe.c"
)

C_COMMANDS=(
    "wc-c wc-c.wasm wc.c"
)

GO_WORKLOADS=(
    "hello-go hello-go.wasm reactor"
    "hello-go-cmd hello-go-cmd.wasm command"
    "session-go session-go.wasm reactor"
)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CC="${CC:-clang}"
GO="${GO:-go}"

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

# Go 1.24 added //go:wasmexport and -buildmode=c-shared for wasip1.
ensure_go() {
    local v
    if ! v="$("$GO" env GOVERSION 2>/dev/null)"; then
        echo "build.sh: the Go workloads need Go 1.24 or newer: $GO not found (set GO=...)" >&2
        exit 1
    fi
    if [[ ! "$v" =~ ^go([0-9]+)\.([0-9]+) ]] ||
        ((BASH_REMATCH[1] == 1 && BASH_REMATCH[2] < 24)); then
        echo "build.sh: the Go workloads need Go 1.24 or newer, $GO is $v" >&2
        exit 1
    fi
}

# ---- build --------------------------------------------------------------------------------

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

report() { # <folder> <module>
    local path="$here/$1/$2"
    chmod a-x "$path" # wasm-ld and go build mark their output executable; it is data
    printf '%-44s %8d bytes  sha256 %s\n' "workloads/$1/$2" "$(wc -c <"$path")" "$(sha256 "$path")"
}

ensure_toolchain
ensure_go

read -r -a sysroot <<<"$(sysroot_flags)"
echo "build.sh: $("$CC" --version | head -n1)"

build_c() { # <exec model> <folder> <module> <sources...>
    local model="$1" folder="$2" module="$3"
    shift 3
    local cmd=("$CC" --target=wasm32-wasi -mexec-model="$model" -O2 ${sysroot[@]+"${sysroot[@]}"}
        -Wall -Wextra -Wl,--strip-debug -o "$module" "$@")
    echo "build.sh: (cd workloads/$folder && ${cmd[*]})"
    (cd "$here/$folder" && "${cmd[@]}")
    report "$folder" "$module"
}

for entry in "${WORKLOADS[@]}"; do
    read -r -a parts <<<"$entry"
    build_c reactor "${parts[@]}"
done
for entry in "${C_COMMANDS[@]}"; do
    read -r -a parts <<<"$entry"
    build_c command "${parts[@]}"
done

echo "build.sh: $("$GO" version)"

for entry in "${GO_WORKLOADS[@]}"; do
    read -r folder module kind <<<"$entry"
    mode=()
    case "$kind" in
    reactor) mode=(-buildmode=c-shared) ;;
    command) ;;
    *)
        echo "build.sh: GO_WORKLOADS: $folder: kind $kind: want reactor or command" >&2
        exit 1
        ;;
    esac
    cmd=("$GO" build ${mode[@]+"${mode[@]}"} -trimpath -buildvcs=false '-ldflags=-s -w'
        -o "$module" .)
    shown="${cmd[*]/#-ldflags=-s -w/-ldflags=\"-s -w\"}"
    echo "build.sh: (cd workloads/$folder && GOOS=wasip1 GOARCH=wasm $shown)"
    (cd "$here/$folder" && GOOS=wasip1 GOARCH=wasm GOFLAGS= CGO_ENABLED=0 "${cmd[@]}")
    report "$folder" "$module"
done
