#!/usr/bin/env bash
source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
build_c reactor leak-probe.wasm leak_probe.c
