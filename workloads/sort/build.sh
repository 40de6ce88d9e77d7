#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor sort.wasm sort.c
