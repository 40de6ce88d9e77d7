#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor counter.wasm counter.c
