#!/usr/bin/env bash
source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
build_c reactor json-stats.wasm json_stats.c
