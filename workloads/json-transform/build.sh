#!/usr/bin/env bash
source ../buildlib.sh
build_go json-transform.wasm command
