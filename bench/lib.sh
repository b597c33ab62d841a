# shellcheck shell=bash
# Shared code of bench/run and bench/nxflood: build, start mxsign pinned to a
# CPU, provision it through the batch API, measure it with dnsperf the way
# shared/bench-peers/run-bench measures the peers, run those peers, and print
# one table. See bench/README.md.

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
PEERS_SRC=${PEERS_SRC:-$ROOT/../shared/bench-peers}
WORK=${WORK:-$BENCH/work}
SHARDS=${SHARDS:-16}
HOSTS=${HOSTS:-2000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-8}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SEED=${SEED:-mxbench-v1}
ALGORITHM=${ALGORITHM:-ecdsap256sha256}
PEERS=${PEERS-coredns-dnssec coredns-unsigned knot-signed}
# MX_VARIANTS: mxsign configurations measured on the same data, separated by "|":
# each NAME or NAME:LINE;LINE... with extra lines for the mxsign block
# ("mxsign|mxsign-nsec:denial nsec").
MX_VARIANTS=${MX_VARIANTS:-mxsign}
PEER_WORKERS=${PEER_WORKERS:-1}
READY_TIMEOUT=${READY_TIMEOUT:-300}
MX_PORT=${MX_PORT:-5320}
MX_API_PORT=${MX_API_PORT:-5321}
ADDR=127.0.0.1
PARENT=mx.example.
BIN=$WORK/bin
MXDIR=$WORK/mxsign
PEERS_DIR=$WORK/peers
MX_PID=""

log() { printf '[%s] %s\n' "$(date -u +%T)" "$*"; }
die() {
  log "error: $*" >&2
  exit 1
}

# need CMD:PACKAGE...: install the Debian packages of missing commands.
need() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (apt-get install them)"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_pkgs PACKAGE...: install the Debian packages not installed yet (for packages
# without a command of their own, such as PowerDNS backends).
need_pkgs() {
  local p missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (apt-get install them)"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_peers: the packages of the peers in PEERS.
need_peers() {
  case " $PEERS " in *" nsd-"*) need_pkgs nsd ldnsutils ;; esac
  case " $PEERS " in *" pdns-"*) need_pkgs pdns-server pdns-backend-bind pdns-backend-sqlite3 sqlite3 ;; esac
  case " $PEERS " in *" bind-"*) need_pkgs bind9 bind9-utils ;; esac
  case " $PEERS " in *" knot-"*) need_pkgs knot knot-dnsutils ;; esac
  return 0
}

now() { date +%s.%N; }

# variants: MX_VARIANTS one per line.
variants() { printf '%s\n' "$MX_VARIANTS" | tr '|' '\n' | sed '/^ *$/d'; }

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
  stop_pid "$MX_PID"
  MX_PID=""
}

# wait_until TIMEOUT COMMAND...: poll every 50 ms.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    kill -0 "$MX_PID" 2>/dev/null || return 1
    sleep 0.05
  done
}

soa_answers() { dig +tries=1 +time=1 +norec @"$ADDR" -p "$MX_PORT" "$PARENT" SOA | grep -q 'status: NOERROR'; }
api_ready() { curl -sf -o /dev/null -H "Authorization: Bearer $(cat "$MXDIR/data/token")" "http://$ADDR:$MX_API_PORT/v1/zones"; }
# signed_ready: the last host of every shard answers A with an RRSIG (one dig for all
# of them: a dig per shard would measure dig's start-up, not mxsign's).
signed_ready() {
  local n
  n=$(wc -l <"$WORK/probes.txt")
  [ "$(awk '{print $1 " A"}' "$WORK/probes.txt" |
    dig +tries=1 +time=2 +norec +dnssec +noall +answer @"$ADDR" -p "$MX_PORT" -f - |
    awk '$4 == "RRSIG" && $5 == "A"' | wc -l)" -ge "$n" ]
}

build_tools() {
  log "building mxsign, mxctl and the bench tools"
  (cd "$ROOT" && go build -o "$BIN/" ./cmd/mxsign ./cmd/mxctl ./testzones/cmd/gendomains \
    ./testzones/cmd/genqueries ./bench/cmd/mxload)
}

# write_corefile [EXTRA]: EXTRA is ";"-separated lines for the mxsign block.
write_corefile() {
  local tlsa extra=${1:-}
  tlsa=$(printf 'mxsign-bench' | sha256sum | cut -d' ' -f1)
  mkdir -p "$MXDIR"
  cat >"$MXDIR/Corefile" <<CONF
$PARENT:$MX_PORT {
    bind $ADDR
    mxsign {
        data data
        api $ADDR:$MX_API_PORT
        nameserver ns1.$PARENT $ADDR
        shard-size $HOSTS
        algorithm $ALGORITHM
$(printf '%s' "$extra" | tr ';' '\n' | sed '/^ *$/d; s/^ */        /')
        profile {
            ttl 3600
            a 192.0.2.25
            aaaa 2001:db8::25
            tlsa 3 1 1 $tlsa
        }
    }
}
CONF
}

# start_mxsign LOG: start pinned to SERVER_CPU; sets MX_PID, T_FIRST, T_READY
# (seconds from exec to the first SOA answer / to every shard signed).
start_mxsign() {
  local logf=$1 t0 t1
  for p in "$MX_PORT" "$MX_API_PORT"; do
    if ss -Hlntu | awk '{print $5}' | grep -qE "[:.]$p\$"; then die "port $p is busy"; fi
  done
  t0=$(now)
  # shellcheck disable=SC2086 # MX_ENV is a list of VAR=value
  (cd "$MXDIR" && exec env ${MX_ENV:-} taskset -c "$SERVER_CPU" "$BIN/mxsign" -conf "$MXDIR/Corefile") >>"$logf" 2>&1 &
  MX_PID=$!
  wait_until "$READY_TIMEOUT" soa_answers || {
    tail -20 "$logf" >&2
    die "mxsign did not answer SOA"
  }
  t1=$(now)
  T_FIRST=$(echo "$t1 - $t0" | bc -l)
  wait_until "$READY_TIMEOUT" api_ready || die "mxsign admin API not ready"
  T_READY=""
  if [ -s "$WORK/probes.txt" ]; then
    wait_until "$READY_TIMEOUT" signed_ready || die "mxsign shards not signed after ${READY_TIMEOUT}s"
    T_READY=$(echo "$(now) - $t0" | bc -l)
  fi
}

# provision: generate SHARDS*HOSTS domains, load them, write hosts, probes,
# the trust anchor and QUERYFILE.
provision() {
  local n=$((SHARDS * HOSTS))
  rm -rf "$MXDIR"
  : >"$WORK/probes.txt"
  write_corefile
  "$BIN/gendomains" -n "$n" -seed "$SEED" >"$WORK/domains.txt"
  start_mxsign "$OUT/logs/mxsign.load.log"
  log "mxsign up in ${T_FIRST}s; loading $n domains through POST /v1/domains:batch"
  taskset -c "$CLIENT_CPU" "$BIN/mxload" -api "$ADDR:$MX_API_PORT" -token-file "$MXDIR/data/token" \
    -in "$WORK/domains.txt" -hosts-out "$WORK/hosts.txt" -parallel "${LOAD_PARALLEL:-1}" | tee "$OUT/load.txt"
  LOAD_RATE=$(awk '/^mxload:/{print $(NF-3)}' "$OUT/load.txt")
  # probes: the last host of every shard
  awk '{z = $0; sub(/^[^.]*\./, "", z); last[z] = $0} END {for (z in last) print last[z]}' "$WORK/hosts.txt" |
    sort >"$WORK/probes.txt"
  log "$(wc -l <"$WORK/hosts.txt") hosts in $(wc -l <"$WORK/probes.txt") shards"
  (cd "$MXDIR" && MXSIGN_API="$ADDR:$MX_API_PORT" "$BIN/mxctl" ds "$PARENT") >"$WORK/ds.txt"
  {
    echo "trust-anchors {"
    awk '$4 == "DS" {d = ""; for (i = 8; i <= NF; i++) d = d $i; printf "  %s static-ds %s %s %s \"%s\";\n", $1, $5, $6, $7, d}' "$WORK/ds.txt"
    echo "};"
  } >"$WORK/anchor.conf"
  make_queries
  stop_pid "$MX_PID"
  MX_PID=""
}

# make_queries: the mxsign query file from the assigned host names, and the
# matching peers' file (PEER_QUERYFILE).
make_queries() {
  if [ "$KIND" = nxflood ]; then
    QUERYFILE=$WORK/nxflood.txt
    "$BIN/genqueries" -hosts "$WORK/hosts.txt" -n "$QUERIES" -seed "$SEED" -nxflood -out "$QUERYFILE"
    PEER_QUERYFILE=$PEERS_DIR/data/nxflood.txt
    if [ -n "$PEERS" ] && [ "$(wc -l <"$PEER_QUERYFILE" 2>/dev/null || echo 0)" != "$QUERIES" ]; then
      (cd "$PEERS_DIR" && N=$QUERIES ./gen-nxflood) >>"$OUT/logs/gen-zones.log" 2>&1 || die "gen-nxflood failed"
    fi
  else
    QUERYFILE=$WORK/queries.txt
    "$BIN/genqueries" -hosts "$WORK/hosts.txt" -n "$QUERIES" -seed "$SEED" -out "$QUERYFILE"
    PEER_QUERYFILE=$PEERS_DIR/data/queries.txt
  fi
}

# validate_mxsign: delv a few samples straight at mxsign.
validate_mxsign() {
  local h pass=0 total=0 q
  while read -r h; do
    for q in "$h A" "$h AAAA" "_25._tcp.$h TLSA" "nx-bench.${h#*.} A"; do
      total=$((total + 1))
      # shellcheck disable=SC2086 # q is "name type"
      if delv @"$ADDR" -p "$MX_PORT" -a "$WORK/anchor.conf" +root="$PARENT" +tcp $q 2>&1 | grep -q 'fully validated'; then
        pass=$((pass + 1))
      else
        log "  delv does not validate: $q"
      fi
    done
  done < <(head -4 "$WORK/probes.txt")
  VALIDATES="no($pass/$total)"
  [ "$pass" -eq "$total" ] && VALIDATES="yes($pass/$total)"
}

cpu_ticks() { sed 's/.*) //' /proc/"$1"/stat | awk '{print $12 + $13}'; }
hwm_kb() { awk '/^VmHWM:/{print $2}' /proc/"$1"/status; }

RAW_HEADER='time\tpeer\tround\tport\tmode\tqps\tavg_lat_ms\tlost\trcodes\tvmhwm_kb\tt_first_s\tt_ready_s\tvalidates\tsrv_cpu_pct\tlowload_qps\tlowload_lat_ms\n'

# measure_mxsign ROUND VARIANT: restart mxsign on its data with the variant's
# Corefile, warm up, measure; append a row to $RAW in the peers' format.
measure_mxsign() {
  local r=$1 variant=${2:-mxsign} name extra pf c0 c1 cpu qps lat lost rc hwm
  name=${variant%%:*}
  extra=""
  [[ "$variant" == *:* ]] && extra=${variant#*:}
  pf="$OUT/logs/$name.r$r.dnsperf.txt"
  log "== $name round $r (port $MX_PORT)"
  write_corefile "$extra"
  start_mxsign "$OUT/logs/$name.r$r.server.log"
  RSS_READY=$(awk '/^VmRSS:/{print $2}' /proc/"$MX_PID"/status)
  printf '  first answer %.2fs, all shards ready %.2fs\n' "$T_FIRST" "$T_READY"
  VALIDATES=n/a
  if [ "$r" = 1 ]; then
    validate_mxsign
    echo "  validate: $VALIDATES"
  fi
  if [ "$WARMUP" -gt 0 ]; then
    taskset -c "$CLIENT_CPU" dnsperf -s "$ADDR" -p "$MX_PORT" -d "$QUERYFILE" -c "$CLIENTS" -l "$WARMUP" -D >/dev/null 2>&1
  fi
  c0=$(cpu_ticks "$MX_PID")
  taskset -c "$CLIENT_CPU" dnsperf -s "$ADDR" -p "$MX_PORT" -d "$QUERYFILE" -c "$CLIENTS" -l "$DURATION" -D >"$pf" 2>&1
  c1=$(cpu_ticks "$MX_PID")
  cpu=$(echo "($c1 - $c0) * 100 / $(getconf CLK_TCK) / $DURATION" | bc -l | xargs printf '%.0f')
  hwm=$(hwm_kb "$MX_PID")
  stop_pid "$MX_PID"
  printf '%s\t%s\t%s\n' "$name" "$r" "$RSS_READY" >>"$OUT/rss-ready.tsv"
  MX_PID=""
  qps=$(awk '/Queries per second:/{print $4}' "$pf")
  lat=$(awk '/Average Latency \(s\):/{printf "%.3f", $4*1000}' "$pf")
  lost=$(awk '/Queries lost:/{print $3}' "$pf")
  rc=$(sed -n 's/^ *Response codes: *//p' "$pf" | tr -d ' ')
  printf '  qps %s  avg %s ms  lost %s  VmHWM %s kB  server CPU %s%%  rcodes %s\n' "$qps" "$lat" "$lost" "$hwm" "$cpu" "$rc"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%.3f\t%s\t%s\t\t\n' "$(date -u +%FT%TZ)" "$name" "$r" "$MX_PORT" online \
    "${qps:-0}" "${lat:-0}" "${lost:-?}" "$rc" "$hwm" "$T_FIRST" "${T_READY:-0}" "$VALIDATES" "$cpu" >>"$RAW"
}

# prepare_peers: a writable copy of shared/bench-peers with CoreDNS built
# and the peers' data set (same SHARDS, HOSTS, query count and seed).
prepare_peers() {
  [ -d "$PEERS_SRC" ] || die "no peer harness at $PEERS_SRC (set PEERS_SRC)"
  mkdir -p "$PEERS_DIR"
  cp -a "$PEERS_SRC/." "$PEERS_DIR/"
  chmod -R u+w "$PEERS_DIR"
  # PEER_WORKERS: Knot's udp/tcp worker threads (the harness runs one).
  sed -i -E "s/^( *(udp|tcp)-workers:) *[0-9]+/\1 $PEER_WORKERS/" "$PEERS_DIR/peers/knot-common.sh"
  if [[ " $PEERS " == *" coredns-"* ]] && [ ! -x "$PEERS_DIR/build/coredns" ]; then
    log "building stock CoreDNS for the peers"
    (cd "$PEERS_DIR" && ./build-coredns.sh) >"$OUT/logs/build-coredns.log" 2>&1 ||
      die "build-coredns.sh failed, see $OUT/logs/build-coredns.log"
  fi
  local want="seed=$SEED shards=$SHARDS hosts_per_shard=$HOSTS zones=$((SHARDS + 1)) data_rrsets=$((SHARDS * HOSTS * 3)) queries=$QUERIES "
  if ! grep -qF "$want" "$PEERS_DIR/data/SUMMARY" 2>/dev/null; then
    log "generating the peers' data set"
    (cd "$PEERS_DIR" && SHARDS=$SHARDS HOSTS=$HOSTS QUERIES=$QUERIES SEED=$SEED ./gen-zones) >"$OUT/logs/gen-zones.log" 2>&1 ||
      die "gen-zones failed, see $OUT/logs/gen-zones.log"
  fi
}

# run_peers ROUND: one round of every peer through the peers' own run-bench.
run_peers() {
  local r=$1 validate=0 qf=$PEER_QUERYFILE
  [ "$r" = 1 ] && validate=1
  # shellcheck disable=SC2086 # PEERS is a list
  (cd "$PEERS_DIR" && ROUNDS=1 DURATION=$DURATION WARMUP=$WARMUP CLIENTS=$CLIENTS SERVER_CPU=$SERVER_CPU \
    CLIENT_CPU=$CLIENT_CPU READY_TIMEOUT=$READY_TIMEOUT VALIDATE=$validate QUERYFILE=$qf \
    RESULTS="$OUT/peers" ./run-bench $PEERS) 2>&1 | tee -a "$OUT/logs/peers.log"
  # run-bench numbers every call as round 1; renumber this call's rows.
  tail -n +2 "$OUT/peers/raw.tsv" | awk -F'\t' -v OFS='\t' -v r="$r" -v skip="$PEER_ROWS" 'NR > skip {$3 = r; print}' >>"$RAW"
  PEER_ROWS=$(($(wc -l <"$OUT/peers/raw.tsv") - 1))
}

med() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) {print 0; exit} if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { awk -F'\t' -v p="$1" -v c="$2" 'NR > 1 && $2 == p && $c != "" {print $c}' "$RAW"; }

# table: medians over rounds and the ratios of mxsign to each peer.
table() {
  local n q qmin qmax lat rss cpu tf tr val mq
  echo "| server | qps median (min-max) | avg latency ms | peak RSS (VmHWM) MiB | startup: first answer s | all shards signed s | server CPU % | runs | validates |"
  echo "|---|---|---|---|---|---|---|---|---|"
  local names v
  names=$(variants | while read -r v; do printf '%s ' "${v%%:*}"; done)
  for n in $names $PEERS; do
    if [ -z "$(col "$n" 6)" ]; then
      echo "| $n | not measured | | | | | | 0 | |"
      continue
    fi
    q=$(col "$n" 6 | med)
    qmin=$(col "$n" 6 | sort -g | head -1)
    qmax=$(col "$n" 6 | sort -g | tail -1)
    lat=$(col "$n" 7 | med)
    rss=$(col "$n" 10 | med)
    tf=$(col "$n" 11 | med)
    tr=$(col "$n" 12 | med)
    cpu=$(col "$n" 14 | med)
    val=$(col "$n" 13 | grep -v '^n/a$' | head -1 || true)
    printf '| %s | %.0f (%.0f-%.0f) | %.3f | %.0f | %.2f | %.2f | %s | %s | %s |\n' "$n" "$q" "$qmin" "$qmax" "$lat" \
      "$(echo "$rss / 1024" | bc -l)" "$tf" "$tr" "$cpu" "$(col "$n" 6 | grep -c .)" "${val:-n/a}"
  done
  echo
  # ratios.tsv: VARIANT qps MEDIAN, then VARIANT PEER RATIO (read by bench/all).
  : >"$OUT/ratios.tsv"
  for v in $names; do
    mq=$(col "$v" 6 | med)
    {
      printf '%s\tqps\t%s\n' "$v" "$mq"
      printf '%s\trss_kb\t%s\n' "$v" "$(col "$v" 10 | med)"
      printf '%s\tt_ready_s\t%s\n' "$v" "$(col "$v" 12 | med)"
      printf '%s\trss_ready_kb\t%s\n' "$v" "$(awk -F'\t' -v p="$v" '$1 == p {print $3}' "$OUT/rss-ready.tsv" | med)"
    } >>"$OUT/ratios.tsv"
    for n in $PEERS; do
      q=$(col "$n" 6 | med)
      if [ "$(echo "$q > 0" | bc -l)" = 1 ]; then
        printf 'ratio %s / %s: %.2f\n' "$v" "$n" "$(echo "$mq / $q" | bc -l)"
        printf '%s\t%s\t%.3f\n' "$v" "$n" "$(echo "$mq / $q" | bc -l)" >>"$OUT/ratios.tsv"
      fi
    done
  done
  for n in $PEERS; do printf '%s\tqps\t%s\n' "$n" "$(col "$n" 6 | med)" >>"$OUT/ratios.tsv"; done
  if [ -n "${LOAD_RATE:-}" ]; then echo "provisioning: $LOAD_RATE domains/s through POST /v1/domains:batch"; fi
}

# bench_main KIND: KIND is "mix" (bench/run) or "nxflood" (bench/nxflood).
bench_main() {
  KIND=$1
  need dnsperf:dnsperf dig:bind9-dnsutils delv:bind9-dnsutils curl:curl jq:jq bc:bc taskset:util-linux \
    ss:iproute2 knotd:knot keymgr:knot named-checkzone:bind9-utils python3:python3
  need_peers
  mkdir -p "$WORK"
  OUT=${OUT:-$BENCH/results/$KIND-$(date -u +%Y%m%dT%H%M%SZ)}
  mkdir -p "$OUT/logs"
  RAW=$OUT/raw.tsv
  # shellcheck disable=SC2059 # RAW_HEADER holds the escapes
  printf "$RAW_HEADER" >"$RAW"
  PEER_ROWS=0
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  {
    echo "kind=$KIND shards=$SHARDS hosts=$HOSTS queries=$QUERIES rounds=$ROUNDS duration=$DURATION warmup=$WARMUP"
    echo "clients=$CLIENTS server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU algorithm=$ALGORITHM peers=$PEERS seed=$SEED"
    echo "variants=$MX_VARIANTS mx_env=${MX_ENV:-} peer_workers=$PEER_WORKERS"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none) kernel=$(uname -r) cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
  } | tee "$OUT/params.txt"

  build_tools
  [ -z "$PEERS" ] || prepare_peers
  provision
  for ((r = 1; r <= ROUNDS; r++)); do
    while read -r v; do measure_mxsign "$r" "$v" </dev/null; done < <(variants)
    [ -z "$PEERS" ] || run_peers "$r"
  done
  table | tee "$OUT/table.md"
  log "results in $OUT"
}
