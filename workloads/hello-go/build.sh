#!/usr/bin/env bash
source ../buildlib.sh
build_go hello-go.wasm reactor
