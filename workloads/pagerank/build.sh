#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor pagerank.wasm pagerank.c
