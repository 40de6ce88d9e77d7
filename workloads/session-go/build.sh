#!/usr/bin/env bash
source ../buildlib.sh
build_go session-go.wasm reactor
