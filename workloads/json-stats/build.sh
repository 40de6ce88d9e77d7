#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor json-stats.wasm json_stats.c
