#!/usr/bin/env bash
# Shared build functions for the workloads' per-folder build scripts.
#
# Every workload folder with a C or Go source has a build.sh of three lines, run from the
# folder (workloads/build.sh runs them all):
#
#   #!/usr/bin/env bash
#   source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
#   build_c reactor noop.wasm noop.c        (or: build_go hello-go.wasm reactor)
#
# In the checkout this file is ../buildlib.sh; for a folder of workloads anywhere else,
# `reclave workloads build --workloads DIR` sets RECLAVE_BUILDLIB to a copy of the one built
# into reclave (or set it yourself: RECLAVE_BUILDLIB=/path/to/buildlib.sh bash build.sh).
#
# Functions (each runs in the current directory, the workload folder):
#   build_c <reactor|command> <module.wasm> <sources...>
#   build_go <module.wasm> <reactor|command>
# Each writes <module.wasm> and toolchain.txt next to it (the toolchain that built the module:
# for C the first line of `clang --version` and the Debian package versions of wasi-libc, lld
# and libclang-rt-*-dev-wasm32; for Go the output of `go version`; no dates, so rebuilding with
# the same toolchain gives the same file), then prints the module's size and SHA-256.
#
# Environment:
#   CC=...            compiler to use (default clang)
#   WASI_SYSROOT=...  a wasi-libc sysroot to pass as --sysroot (default: Debian's wasi-libc,
#                     which Debian's clang finds without one)
#   GO=...            the go command for the Go workloads (default go; Go 1.24 or newer)
#   RECLAVE_WORKLOADS=...  the folder of workloads, as the messages name it (default workloads)
#
# Every C module is built the same way, with exec model reactor or command:
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
# A Go workload folder is one package main whose files all carry a wasip1 build constraint
# (so the host build ignores them): in the checkout a package of reclave's module; anywhere
# else it needs a go.mod of its own (`go mod init example.com/NAME` in the folder; build_go
# says so when there is none). Every Go module is built the same way, from its folder:
#   GOOS=wasip1 GOARCH=wasm go build [-buildmode=c-shared] -trimpath -buildvcs=false \
#         -ldflags="-s -w" -o <module> .
# -buildmode=c-shared (reactors) makes a WASI reactor: it exports _initialize (starts the Go
# runtime) and the functions marked //go:wasmexport, and main is never called; without it the
# module is a command exporting _start. -s -w drop the symbol table and DWARF; -trimpath and
# -buildvcs=false keep file paths and the git state out of the module, so the same Go version
# builds the same bytes anywhere (GOFLAGS is cleared for the same reason).
#
# Toolchain (Debian packages): clang, lld (wasm-ld), wasi-libc (the sysroot) and
# libclang-rt-dev-wasm32 (compiler-rt builtins for wasm32, matching Debian's default clang;
# without it linking fails for want of libclang_rt.builtins-wasm32.a).
# Missing packages are installed with apt-get when running as root; otherwise build_c prints
# the apt-get command to run and fails. Go (1.24 or newer, for //go:wasmexport) is not
# installed.
set -euo pipefail

CC="${CC:-clang}"
GO="${GO:-go}"

# How messages name the current workload folder: workloads/NAME in the checkout.
_buildlib_where() { echo "${RECLAVE_WORKLOADS:-workloads}/$(basename "$PWD")"; }

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
        echo "buildlib.sh: missing toolchain packages: ${missing[*]}" >&2
        echo "buildlib.sh: install them with: apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "buildlib.sh: installing ${missing[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# Go 1.24 added //go:wasmexport and -buildmode=c-shared for wasip1.
ensure_go() {
    local v
    if ! v="$("$GO" env GOVERSION 2>/dev/null)"; then
        echo "buildlib.sh: the Go workloads need Go 1.24 or newer: $GO not found (set GO=...)" >&2
        exit 1
    fi
    if [[ ! "$v" =~ ^go([0-9]+)\.([0-9]+) ]] ||
        ((BASH_REMATCH[1] == 1 && BASH_REMATCH[2] < 24)); then
        echo "buildlib.sh: the Go workloads need Go 1.24 or newer, $GO is $v" >&2
        exit 1
    fi
}

# ---- build --------------------------------------------------------------------------------

_buildlib_sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

_buildlib_report() { # <module>
    chmod a-x "$1" # wasm-ld and go build mark their output executable; it is data
    printf '%-44s %8d bytes  sha256 %s\n' "$(_buildlib_where)/$1" "$(wc -c <"$1")" \
        "$(_buildlib_sha256 "$1")"
}

# toolchain.txt for C: clang's first version line, then "<package> <version>" for each Debian
# package of the toolchain (without the architecture suffix, sorted by dpkg-query).
_buildlib_c_toolchain() {
    "$CC" --version | head -n1
    if command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f '${Package} ${Version}\n' wasi-libc lld 'libclang-rt-*-dev-wasm32' \
            2>/dev/null | sort || true
    else
        echo "(no dpkg-query: package versions unknown)"
    fi
}

build_c() { # <reactor|command> <module.wasm> <sources...>
    if (($# < 3)); then
        echo "buildlib.sh: usage: build_c <reactor|command> <module.wasm> <sources...>" >&2
        exit 2
    fi
    local model="$1" module="$2"
    shift 2
    case "$model" in
    reactor | command) ;;
    *)
        echo "buildlib.sh: build_c: exec model $model: want reactor or command" >&2
        exit 2
        ;;
    esac
    ensure_toolchain
    local sysroot=()
    read -r -a sysroot <<<"$(sysroot_flags)"
    local cmd=("$CC" --target=wasm32-wasi -mexec-model="$model" -O2 ${sysroot[@]+"${sysroot[@]}"}
        -Wall -Wextra -Wl,--strip-debug -o "$module" "$@")
    echo "build.sh: (cd $(_buildlib_where) && ${cmd[*]})"
    "${cmd[@]}"
    _buildlib_c_toolchain >toolchain.txt
    _buildlib_report "$module"
}

build_go() { # <module.wasm> <reactor|command>
    if (($# != 2)); then
        echo "buildlib.sh: usage: build_go <module.wasm> <reactor|command>" >&2
        exit 2
    fi
    local module="$1" kind="$2" mode=()
    case "$kind" in
    reactor) mode=(-buildmode=c-shared) ;;
    command) ;;
    *)
        echo "buildlib.sh: build_go: kind $kind: want reactor or command" >&2
        exit 2
        ;;
    esac
    ensure_go
    local gomod
    gomod="$(GOOS=wasip1 GOARCH=wasm "$GO" env GOMOD)"
    if [[ -z "$gomod" || "$gomod" == /dev/null ]]; then
        echo "buildlib.sh: build_go: $(_buildlib_where) is in no Go module: a Go workload outside reclave's checkout needs a go.mod of its own; run, in the folder: $GO mod init example.com/$(basename "$PWD")" >&2
        exit 1
    fi
    local cmd=("$GO" build ${mode[@]+"${mode[@]}"} -trimpath -buildvcs=false '-ldflags=-s -w'
        -o "$module" .)
    local shown="${cmd[*]/#-ldflags=-s -w/-ldflags=\"-s -w\"}"
    echo "build.sh: (cd $(_buildlib_where) && GOOS=wasip1 GOARCH=wasm $shown)"
    GOOS=wasip1 GOARCH=wasm GOFLAGS= CGO_ENABLED=0 "${cmd[@]}"
    "$GO" version >toolchain.txt
    _buildlib_report "$module"
}
