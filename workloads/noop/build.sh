#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor noop.wasm noop.c
