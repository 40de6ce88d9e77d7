#!/usr/bin/env bash
source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
build_c reactor kv-auth.wasm kv_auth.c
