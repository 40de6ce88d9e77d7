#!/usr/bin/env bash
source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
build_go hello-go-cmd.wasm command
