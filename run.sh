#!/usr/bin/env bash
# reclave's main job: build, run the paper's experiments in the embedded (simulated SGX)
# backend, sweep the rewind cost, draw the figures, write report.md and print the summary.
#
#   ./run.sh                 every experiment (configs/paper.yaml, under 20 minutes on 2 cores)
#   ./run.sh --quick         small config for a first look or CI (under 2 minutes on 2 cores)
#   ./run.sh --config FILE   any config
#   ./run.sh --out DIR       write there instead of out/<timestamp> (out/latest links the newest)
#   ./run.sh --no-sweep      skip the rewind sweep (reclave bench rewind, figure rewind_scaling)
#
# Needs only Go (see go.mod for the version); installs nothing.
set -euo pipefail
cd "$(dirname "$0")"

config=configs/paper.yaml
out=
sweep=(--out)
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) config=configs/quick.yaml; sweep=(--quick --out) ;;
    --no-sweep) sweep=() ;;
    --config) config=${2:?--config needs a file}; shift ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

command -v go >/dev/null || { echo "run.sh: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }

echo "==> building bin/reclave and bin/reclave-enclave"
go build -o bin/reclave ./cmd/reclave
# The runtime image every enclave measures (and target process starts): only what runs inside
# an enclave, built reproducibly (two builds of a commit are byte-identical).
CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o bin/reclave-enclave ./cmd/reclave-enclave

# Exit 3 from reclave run: every record and the summary are written, but invocations failed
# or gave invalid outputs beyond what the config expects. The figures and the report are still
# drawn (they show what happened), and run.sh exits 3 at the end.
status=0
if [ -z "$out" ]; then
  # reclave makes out/<timestamp> and links out/latest to it.
  bin/reclave run --config "$config" || status=$?
  out=out/latest
else
  bin/reclave run --config "$config" --out "$out" || status=$?
fi
if [ "$status" != 0 ] && [ "$status" != 3 ]; then
  exit "$status"
fi

if ((${#sweep[@]})); then
  echo "==> rewind sweep (reclave bench rewind ${sweep[*]} $out)"
  bin/reclave bench rewind "${sweep[@]}" "$out" >/dev/null
fi

echo "==> figures and report.md"
bin/reclave plot "$out"

echo "==> summary"
bin/reclave report "$out"

dir=$(cd "$out" && pwd -P)
cat <<MSG

Outputs in $dir:
  records.jsonl   one line per invocation (raw latencies and phases)
  summary.json    statistics per workload and mode, with the environment
  config.yaml     the config used
  rewind_bench.json  rewind latency per strategy, memory size and dirty pages (the sweep)
  plots/          the figures, each as .png / .svg / .pdf
  report.md       environment, tables and every figure with the paper's claim it reproduces
  trace/          the config's trace experiments (kind: trace), each trace/NAME/: synth/ (the
                  synthetic trace), simulate/ (policy figures, report.md) and replay/ (real
                  enclaves; report.md's simulator vs. replay agreement), linked from report.md
MSG
if [ "$status" = 3 ]; then
  echo "run.sh: unexpected failures or invalid outputs (reclave run's message above): exit 3" >&2
fi
exit "$status"
