#!/usr/bin/env bash
source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
build_go json-transform.wasm command
