#!/usr/bin/env bash
# Submits an axsa campaign as N shards (a Slurm array of campaign_array.sbatch) and the merge job
# that waits for all of them (merge.sbatch, --dependency=afterok). docs/scale-out.md.
# Usage: AXSA=... AXSA_OUT=... AXSA_CAMPAIGN="..." scripts/slurm/submit_shards.sh N [sbatch options...]
# The sbatch options (e.g. --partition=cpu --account=proj) go to both jobs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ $# -lt 1 || ! "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "submit_shards.sh: error: usage: submit_shards.sh N [sbatch options...] (N shards, at least 1)" >&2
  exit 2
fi
shards=$1
shift
: "${AXSA:=$PWD/build/testbench/axsa}"
: "${AXSA_OUT:=$PWD/campaign}"
: "${AXSA_CAMPAIGN:=--bits 8 --images 100 --margin 0.01}"
export AXSA AXSA_OUT AXSA_CAMPAIGN
[[ -x "$AXSA" ]] || { echo "submit_shards.sh: error: AXSA=$AXSA is not an executable" >&2; exit 2; }
mkdir -p "$AXSA_OUT"
# --parsable prints "jobid" or "jobid;cluster".
array=$(sbatch --parsable "$@" --array="1-$shards" "$here/campaign_array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable "$@" --dependency="afterok:$array" --export="ALL,AXSA_SHARDS=$shards" "$here/merge.sbatch")
merge=${merge%%;*}
echo "submitted array job $array ($shards shards into $AXSA_OUT) and merge job $merge"
