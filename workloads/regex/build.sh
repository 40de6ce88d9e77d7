#!/usr/bin/env bash
source ../buildlib.sh
build_go regex.wasm reactor
