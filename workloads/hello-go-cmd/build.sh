#!/usr/bin/env bash
source ../buildlib.sh
build_go hello-go-cmd.wasm command
