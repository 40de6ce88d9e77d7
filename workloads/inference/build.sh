#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor inference.wasm inference.c
