#!/usr/bin/env bash
source ../buildlib.sh
build_go deflate.wasm reactor
