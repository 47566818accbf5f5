#!/usr/bin/env bash
# The scale-out benchmark (issue 20, docs/performance.md "Beyond one machine"): the
# national lake's whole transform on the four set-ups, each figure with its ratio to the
# first: a local lake in-process; the lake on S3 (moto's server on 127.0.0.1,
# tests/s3_server.py) in-process; a local lake on a Ballista cluster of two executors
# (`maaltal cluster`, a process on 127.0.0.1); the S3 lake on that cluster. Plus what the
# S3 lake costs on its own: the first publish of the whole lake, and a new machine's
# first pull. Release build only:
#
#   cargo build --release && tests/bench_scale_out.sh [WORK]     (default bench/scale-out)
#
# RUNS=3 runs per in-process figure (median), CLUSTER_RUNS=1 per cluster figure;
# QUERY_TIMEOUT=60 is `[engine] query_timeout_secs` on the cluster (Ballista 55 never
# finishes one of the national marts: docs/scale-out.md). MAALTAL_BIN overrides the
# binary. Each run is a process of its own: wall time and peak RSS from GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${MAALTAL_BIN:-${CARGO_TARGET_DIR:-target}/release/maaltal}"
W="$(realpath -m "${1:-bench/scale-out}")"
RUNS="${RUNS:-3}"
mkdir -p "$W"
data="$W/national"
if [ ! -f "$data/maaltal.toml" ]; then
  "$BIN" sample-data --scale national --out "$data"
fi
base="$data/maaltal.toml"
if [ ! -d "$data/lake/raw/dream" ]; then
  echo "== landing the national lake (once)"
  "$BIN" --config "$base" ingest dream --period 2016Q1..2018Q4 >/dev/null
  "$BIN" --config "$base" ingest jobindsats --period 2016Q1..2018Q4 >/dev/null
  "$BIN" --config "$base" ingest jobindsats --period 2016-12..2018-12 >/dev/null
  "$BIN" --config "$base" ingest fagsystem --period 2018-11 >/dev/null
fi
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret

# A config beside the data: the lake `path` and extra TOML appended.
config() { # name lake-path extra
  sed "s|^path = \"lake\"|path = \"$2\"|" "$base" >"$data/$1.toml"
  printf '%s\n' "$3" >>"$data/$1.toml"
  echo "$data/$1.toml"
}

# Runs a command RUNS times; prints "median_seconds max_rss_mib".
measure() {
  local times=() rss=0 out
  for _ in $(seq "$RUNS"); do
    if ! /usr/bin/time -f '%e %M' -o "$W/time.txt" "$@" >"$W/last.out" 2>"$W/last.err"; then
      echo "failed: $* (see $W/last.err)" >&2; tail -5 "$W/last.err" >&2; exit 1
    fi
    out=$(tail -1 "$W/time.txt")
    times+=("${out% *}")
    local r=$(( ${out#* } / 1024 ))
    (( r > rss )) && rss=$r
  done
  printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$rss"
}

# Servers, stopped when the script ends.
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
exec 3< <(python3 tests/s3_server.py --bucket maaltal-bench)
pids+=($!)
read -r ready port <&3
[ "$ready" = ready ] || { echo "the S3 server did not start" >&2; exit 1; }
remote="[lake.remote]
url = \"s3://maaltal-bench/national\"
endpoint = \"http://127.0.0.1:$port\"
allow_http = true"
sched_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
exec 4< <("$BIN" cluster --bind "127.0.0.1:$sched_port" --executors 2 --work-dir "$W/cluster" 2>"$W/cluster.log")
pids+=($!)
read -r line <&4
case "$line" in ready:*) ;; *) echo "the cluster did not start: $line" >&2; exit 1 ;; esac
engine="[engine]
kind = \"ballista\"
scheduler = \"df://127.0.0.1:$sched_port\"
query_timeout_secs = ${QUERY_TIMEOUT:-60}"

# The S3 working copy starts as a copy of the landed lake; its first transform
# publishes the whole lake.
rm -rf "$W/copy-a" "$W/copy-b" "$W/copy-c"
cp -r "$data/lake" "$W/copy-a"
rm -rf "$W/copy-a/.remote" "$W/copy-a/.locks"
s3=$(config s3 "$W/copy-a" "$remote")
first=$( RUNS=1 measure "$BIN" --config "$s3" transform )
local_cfg=$(config local "$data/lake" "")
cluster_cfg=$(config cluster "$data/lake" "$engine")
s3_cluster=$(config s3-cluster "$W/copy-a" "$remote
$engine")

echo "== measuring ($RUNS runs in-process, ${CLUSTER_RUNS:-1} on the cluster); first publish: $first"
a=$(measure "$BIN" --config "$local_cfg" transform); echo "local: $a"
b=$(measure "$BIN" --config "$s3" transform); echo "s3: $b"
c=$( RUNS=${CLUSTER_RUNS:-1} measure "$BIN" --config "$cluster_cfg" transform); echo "cluster: $c"
d=$( RUNS=${CLUSTER_RUNS:-1} measure "$BIN" --config "$s3_cluster" transform); echo "s3 + cluster: $d"
grep "ran in this process instead" "$W/last.out" >"$W/fallbacks.txt" || true
pull=$( RUNS=1 measure "$BIN" --config "$(config s3-b "$W/copy-b" "$remote")" sql "select count(*) from target_metrics" ); echo "pull: $pull"
lake_mib=$(du -sm "$data/lake/raw" "$data/lake/marts" | awk '{s+=$1} END {print s}')
objects=$(find "$data/lake/raw" "$data/lake/marts" "$data/lake/ledger" -type f | wc -l)

ratio() { awk -v x="${1% *}" -v y="${a% *}" 'BEGIN {printf "%.2f", x / y}'; }
row() { printf '| %s | %s s | %s MiB | %s |\n' "$1" "${2% *}" "${2#* }" "$3"; }
row2() { printf '| %s | %s s | %s MiB |\n' "$1" "${2% *}" "${2#* }"; }
{
  echo "maaltal $("$BIN" --version | awk '{print $2}') (release), $(nproc) cores; national lake: $lake_mib MiB of Parquet in $objects objects; in-process: median of $RUNS runs, cluster: ${CLUSTER_RUNS:-1} run(s), query_timeout_secs = ${QUERY_TIMEOUT:-60}; peak RSS of the maaltal process (not the servers' or the executors')."
  echo
  echo "| whole national \`transform\` | wall | peak RSS | ratio (time) to the first |"
  echo "|---|---:|---:|---:|"
  row "local lake, in-process" "$a" "1.00"
  row "S3 lake (pull, transform, publish the marts), in-process" "$b" "$(ratio "$b")"
  row "local lake, Ballista: 2 executors" "$c" "$(ratio "$c")"
  row "S3 lake, Ballista: 2 executors" "$d" "$(ratio "$d")"
  echo
  echo "| the S3 lake on its own | wall | peak RSS |"
  echo "|---|---:|---:|"
  row2 "first transform with \`[lake.remote]\`: publishes the whole lake" "$first"
  row2 "a new machine's first command: pulls the whole lake" "$pull"
  echo
  echo "Run in-process instead of on the cluster (docs/scale-out.md):"
  sed 's/^/- /' "$W/fallbacks.txt"
} | tee "$W/results.md"
