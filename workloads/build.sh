#!/usr/bin/env bash
# Rebuilds the workloads' committed .wasm modules from their sources.
#
# Usage: workloads/build.sh [NAME...]      (from any directory)
#
# Runs the build script of every workload folder (a folder of workloads/ holding a
# workload.yaml and a build.sh), from that folder, in name order; with NAMEs, only those
# folders' scripts (an unknown NAME, or one without a build.sh, is an error). Each folder's
# build.sh sources "${RECLAVE_BUILDLIB:-../buildlib.sh}" (this script sets RECLAVE_BUILDLIB to
# workloads/buildlib.sh), which explains the compiler flags and the toolchain, and installs
# missing Debian toolchain packages when run as root. The environment (CC, WASI_SYSROOT, GO)
# is passed on; see buildlib.sh. For a folder of workloads outside the checkout, use
# `reclave workloads build --workloads DIR`.
#
# A folder whose manifest names another script with `build: <script>` is built with that
# script instead of build.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export RECLAVE_BUILDLIB="$here/buildlib.sh"

# The script a folder's manifest names with a top-level `build:` key, else build.sh.
build_script() { # <folder>
    local s
    s="$(sed -n -E 's/^build:[[:space:]]*["'\'']?([^"'\''#[:space:]]+)["'\'']?[[:space:]]*(#.*)?$/\1/p' \
        "$here/$1/workload.yaml" | head -n1)"
    echo "${s:-build.sh}"
}

names=()
if (($# > 0)); then
    for name in "$@"; do
        name="${name%/}"
        if [[ ! -f "$here/$name/workload.yaml" ]]; then
            echo "build.sh: $name: no workload folder workloads/$name with a workload.yaml" >&2
            exit 2
        fi
        if [[ ! -f "$here/$name/$(build_script "$name")" ]]; then
            echo "build.sh: $name: workloads/$name has no build script $(build_script "$name")" >&2
            exit 2
        fi
        names+=("$name")
    done
else
    for manifest in "$here"/*/workload.yaml; do
        [[ -e "$manifest" ]] || continue
        name="$(basename "$(dirname "$manifest")")"
        [[ -f "$here/$name/$(build_script "$name")" ]] || continue
        names+=("$name")
    done
fi

for name in "${names[@]}"; do
    script="$(build_script "$name")"
    (cd "$here/$name" && bash "./$script") || {
        echo "build.sh: workloads/$name/$script failed" >&2
        exit 1
    }
done
