#!/usr/bin/env bash
# reclave's main job: build, run the default experiment in the embedded (simulated SGX)
# backend, draw the figures and print the summary table.
#
#   ./run.sh                 default config (configs/default.yaml)
#   ./run.sh --quick         small config for a first look or CI (under 2 minutes on 2 cores)
#   ./run.sh --config FILE   any config
#   ./run.sh --out DIR       write there instead of out/<timestamp> (out/latest links the newest)
#
# Needs only Go (see go.mod for the version); installs nothing.
set -euo pipefail
cd "$(dirname "$0")"

config=configs/default.yaml
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) config=configs/quick.yaml ;;
    --config) config=${2:?--config needs a file}; shift ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

command -v go >/dev/null || { echo "run.sh: Go is not installed (https://go.dev/dl/)" >&2; exit 1; }

echo "==> building bin/reclave"
go build -o bin/reclave ./cmd/reclave

if [ -z "$out" ]; then
  # reclave makes out/<timestamp> and links out/latest to it.
  bin/reclave run --config "$config"
  out=out/latest
else
  bin/reclave run --config "$config" --out "$out"
fi

echo "==> figures"
bin/reclave plot "$out"

echo "==> summary"
bin/reclave report "$out"

dir=$(cd "$out" && pwd -P)
cat <<MSG

Outputs in $dir:
  records.jsonl   one line per invocation (raw latencies and phases)
  summary.json    statistics per workload and mode, with the environment
  config.yaml     the config used
  plots/          cold_vs_rewind.png / .svg / .pdf
MSG
