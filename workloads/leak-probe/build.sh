#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor leak-probe.wasm leak_probe.c
