#!/usr/bin/env bash
source ../buildlib.sh
build_go sha-aes.wasm reactor
