#!/usr/bin/env bash
source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
build_go session-go.wasm reactor
