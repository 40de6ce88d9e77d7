#!/usr/bin/env python3
"""Writes hello-go-cmd's expected outputs: the same transform as hello-go without "init", so
this runs hello-go's reference implementation with --cmd (see ../../hello-go/expected/gen.py).

Run from anywhere: python3 workloads/hello-go-cmd/expected/gen.py
"""
import os
import runpy
import sys

sys.argv = [sys.argv[0], "--cmd"]
runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "..", "hello-go", "expected", "gen.py"), run_name="__main__")
