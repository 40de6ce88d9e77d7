#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor matmul.wasm matmul.c
