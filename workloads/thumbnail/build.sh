#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor thumbnail.wasm thumbnail.c
