#!/usr/bin/env bash
source ../buildlib.sh
build_c reactor kv-auth.wasm kv_auth.c
