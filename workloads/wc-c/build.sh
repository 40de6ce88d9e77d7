#!/usr/bin/env bash
source ../buildlib.sh
build_c command wc-c.wasm wc.c
