#!/usr/bin/env bash
# Process-level chaos test of an mxsign Raft cluster.
#
# Builds bin/mxsign and bin/mxctl (unless SKIP_BUILD=1) and the driver
# (cluster/chaos), starts three mxsign nodes on free ports of 127.0.0.1 that
# share a token and a key-encryption key (n1 bootstraps, n2 and n3 join it),
# and runs the driver for DURATION seconds: CLIENTS concurrent clients add
# unique domains and read some back through random nodes while this script
# kills the current leader with SIGKILL KILLS times (each time: wait for a new
# leader, then restart the killed node with the same Corefile). Then
# `chaos verify` waits for every node to catch up, reads every domain on every
# node, checks the whole history for linearizability (porcupine) and fails on
# a lost acknowledged write; finally a validating unbound with a stub zone at
# all three nodes must resolve a sample of the acknowledged hosts with AD, and
# every node must answer them directly.
#
# Env: DURATION (20) s, CLIENTS (8), KILLS (3), SAMPLE (50) hosts checked by
#      DNS, READY_TIMEOUT (60) s, BIN (<repo>/bin), SKIP_BUILD, KEEP=1 keeps
#      the work directory, VERBOSE=1 prints every passing check.
# Prints failover times (kill -> first committed write) and committed
# domains/s. Last line: "chaos: N passed, M failed"; exit status 1 on any
# failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG=chaos
BIN=${BIN:-$ROOT/bin}
DURATION=${DURATION:-20}
CLIENTS=${CLIENTS:-8}
KILLS=${KILLS:-3}
SAMPLE=${SAMPLE:-50}
READY_TIMEOUT=${READY_TIMEOUT:-60}
ADDR=127.0.0.1
PARENT=mx.example.
NODES=(n1 n2 n3)

for b in dig unbound curl jq ss go awk; do
  command -v "$b" >/dev/null || { echo "chaos: missing $b" >&2; exit 2; }
done

# shellcheck source=.ci/lib.sh
source "$ROOT/.ci/lib.sh"

WORK=$(mktemp -d /tmp/mxsign-chaos.XXXXXX)
declare -A PID DNS_PORT API_PORT RAFT_PORT
UB_PID=""
DRIVER_PID=""
PASS=0
FAIL=0

cleanup() {
  local rc=$? n
  stop_pid "$DRIVER_PID"
  stop_pid "$UB_PID"
  for n in "${NODES[@]}"; do stop_pid "${PID[$n]:-}"; done
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "chaos: work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
api_addr() { echo "$ADDR:${API_PORT[$1]}"; }
alive() { [ -n "${PID[$1]:-}" ] && kill -0 "${PID[$1]}" 2>/dev/null; }
cluster_json() { # cluster_json NODE: GET /v1/cluster on NODE
  curl -sf --max-time 2 -H "Authorization: Bearer $TOKEN" "http://$(api_addr "$1")/v1/cluster"
}
# leader_of NODE: the leader NODE knows of, empty if none.
leader_of() { cluster_json "$1" 2>/dev/null | jq -r '.leader // empty' 2>/dev/null || true; }
# current_leader: the leader as a live node sees it.
current_leader() {
  local n l
  for n in "${NODES[@]}"; do
    alive "$n" || continue
    l=$(leader_of "$n")
    if [ -n "$l" ]; then
      echo "$l"
      return 0
    fi
  done
  return 1
}
# cluster_formed: n1 sees 3 voters and a leader, every node knows that leader.
cluster_formed() {
  local j l n
  j=$(cluster_json n1) || return 1
  [ "$(jq '[.nodes[] | select(.voter)] | length' <<<"$j")" = 3 ] || return 1
  l=$(jq -r '.leader // empty' <<<"$j")
  [ -n "$l" ] || return 1
  for n in "${NODES[@]}"; do [ "$(leader_of "$n")" = "$l" ] || return 1; done
}
# new_leader_elected OLD: a live node knows a leader other than OLD.
new_leader_elected() { local l; l=$(current_leader) && [ "$l" != "$1" ]; }
# rejoined NODE: NODE is up and knows the leader.
rejoined() { [ -n "$(leader_of "$1")" ]; }

write_corefile() { # write_corefile NODE
  local n=$1 join=""
  [ "$n" = n1 ] || join="join $(api_addr n1)"
  mkdir -p "$WORK/$n"
  cat >"$WORK/$n/Corefile" <<CONF
$PARENT:${DNS_PORT[$n]} {
    bind $ADDR
    mxsign {
        data $WORK/$n/data
        api $(api_addr "$n")
        token-file $WORK/shared/token
        kek-file $WORK/shared/kek
        nameserver ns1.$PARENT $ADDR
        shard-size 50
        profile {
            ttl 300
            a 192.0.2.25
            aaaa 2001:db8::25
            tlsa 3 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d
        }
        cluster {
            node-id $n
            raft $ADDR:${RAFT_PORT[$n]}
            $join
        }
    }
    errors
}
CONF
}

start_node() { # start_node NODE: start it and wait for its admin API
  local n=$1
  (cd "$WORK/$n" && exec "$BIN/mxsign" -conf "$WORK/$n/Corefile") >>"$WORK/$n/mxsign.log" 2>&1 &
  PID[$n]=$!
  wait_until "$READY_TIMEOUT" "$n's admin API" cluster_json "$n" ||
    { LAST=$(tail -30 "$WORK/$n/mxsign.log"); fatal "$n starts and answers GET /v1/cluster"; }
}

# direct_answer NODE NAME: NODE answers NAME A itself, authoritatively, signed.
direct_answer() {
  LAST=$(dig +dnssec +norec +time=2 +tries=2 @"$ADDR" -p "${DNS_PORT[$1]}" "$2" A 2>&1) || return 1
  status_is NOERROR && grep -qE '^;; flags:[^;]* aa[ ;]' <<<"$LAST" &&
    answer_section | awk '$4 == "A" {a=1} $4 == "RRSIG" && $5 == "A" {s=1} END {exit !(a && s)}'
}

hex32() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && go build -o "$BIN/" ./cmd/mxsign ./cmd/mxctl)
fi
(cd "$ROOT" && go build -o "$WORK/tools/" ./cluster/chaos)
for b in mxsign mxctl; do [ -x "$BIN/$b" ] || { echo "chaos: $BIN/$b not built" >&2; exit 2; }; done

for n in "${NODES[@]}"; do
  pick_port "DNS_PORT[$n]"
  pick_port "API_PORT[$n]"
  pick_port "RAFT_PORT[$n]"
done
pick_port UB_PORT
mkdir -p "$WORK/shared"
(umask 077 && hex32 >"$WORK/shared/token" && hex32 >"$WORK/shared/kek")
TOKEN=$(cat "$WORK/shared/token")
API_LIST=$(for n in "${NODES[@]}"; do api_addr "$n"; done | paste -sd,)
echo "chaos: work $WORK; api $API_LIST; unbound $ADDR:$UB_PORT"
for n in "${NODES[@]}"; do write_corefile "$n"; done

# ---------------------------------------------------------------- cluster
T0=$(now_ns)
for n in "${NODES[@]}"; do start_node "$n"; done
wait_until "$READY_TIMEOUT" "3 voters and a leader" cluster_formed ||
  { LAST=$(cluster_json n1 2>&1 || true); fatal "the cluster forms (3 voters, a leader)"; }
ok "cluster formed in $(ms_since "$T0") ms, leader $(current_leader)"

# ---------------------------------------------------------------- chaos
"$WORK/tools/chaos" run -nodes "$API_LIST" -token-file "$WORK/shared/token" \
  -clients "$CLIENTS" -duration "${DURATION}s" -history "$WORK/history.json" \
  >"$WORK/driver.out" 2>&1 &
DRIVER_PID=$!
: >"$WORK/kills.txt"
# Kill k is due at k*DURATION/(KILLS+1) s into the run (later if the
# previous node is still coming back), so the first and last slices are quiet.
RUN_START=$(now_ns)
ELECTIONS=()
for ((k = 1; k <= KILLS; k++)); do
  due=$((RUN_START + k * DURATION * 1000000000 / (KILLS + 1)))
  while (($(now_ns) < due)); do sleep 0.1; done
  kill -0 "$DRIVER_PID" 2>/dev/null || { bad "kill $k: the driver ended before it was due"; break; }
  leader=$(current_leader) || { bad "kill $k: no live node knows a leader"; continue; }
  [ -n "${PID[$leader]:-}" ] || { bad "kill $k: leader '$leader' is not one of ours"; continue; }
  t=$(now_ns)
  kill -KILL "${PID[$leader]}"
  wait "${PID[$leader]}" 2>/dev/null || true
  echo "$t $leader" >>"$WORK/kills.txt"
  PID[$leader]=""
  if wait_until 15 "a new leader after killing $leader" new_leader_elected "$leader"; then
    e=$(ms_since "$t")
    ELECTIONS+=("$e")
    ok "kill $k: SIGKILL leader $leader; $(current_leader) elected after $e ms"
  else
    bad "kill $k: no new leader within 15 s of killing $leader"
  fi
  sleep 0.5
  start_node "$leader"
  if wait_until 20 "$leader to rejoin" rejoined "$leader"; then
    ok "kill $k: $leader restarted and rejoined"
  else
    LAST=$(tail -20 "$WORK/$leader/mxsign.log")
    bad "kill $k: $leader restarted and rejoined"
  fi
done

DRIVER_RC=0
wait "$DRIVER_PID" || DRIVER_RC=$?
DRIVER_PID=""
cat "$WORK/driver.out"
LAST=$(tail -5 "$WORK/driver.out")
check "driver: the run's history is linearizable" test "$DRIVER_RC" = 0

VERIFY_RC=0
"$WORK/tools/chaos" verify -nodes "$API_LIST" -token-file "$WORK/shared/token" \
  -history "$WORK/history.json" -kills "$WORK/kills.txt" -hosts "$WORK/hosts.txt" \
  >"$WORK/verify.out" 2>&1 || VERIFY_RC=$?
cat "$WORK/verify.out"
LAST=$(grep FAIL "$WORK/verify.out" || true)
check "verify: every acknowledged domain on every node, history linearizable" test "$VERIFY_RC" = 0
((${#ELECTIONS[@]} == 0)) || echo "chaos: leader elections (kill -> new leader seen) ms: ${ELECTIONS[*]}"

# ---------------------------------------------------------------- DNS
mapfile -t HOSTS < <(grep . "$WORK/hosts.txt" 2>/dev/null | shuf -n "$SAMPLE" --random-source=<(yes) || true)
((${#HOSTS[@]} > 0)) || fatal "verify listed acknowledged hosts"

LAST=$(cd "$WORK" && "$BIN/mxctl" --api "$(api_addr n1)" --token-file "$WORK/shared/token" ds "$PARENT" 2>&1 >"$WORK/ds.txt") ||
  fatal "mxctl ds $PARENT"
grep -qE '^mx\.example\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]' "$WORK/ds.txt" ||
  { LAST=$(cat "$WORK/ds.txt"); fatal "mxctl ds $PARENT prints DS records"; }
ok "trust anchor: $(grep -c . "$WORK/ds.txt") DS for $PARENT"

STUBS=()
for n in "${NODES[@]}"; do STUBS+=("$ADDR@${DNS_PORT[$n]}"); done
write_unbound_conf "${STUBS[@]}"
start_unbound || { LAST=$(tail -30 "$WORK/unbound.log"); fatal "unbound starts"; }

for h in "${HOSTS[@]}"; do
  check "unbound $h A secure (AD)" secure_answer "$h" A
  for n in "${NODES[@]}"; do
    check "$n answers $h A (aa, signed)" direct_answer "$n" "$h"
  done
done

FAILOVERS=$(awk '/^chaos failover/ {printf "%s%s", sep, $NF; sep = " "}' "$WORK/verify.out")
RATE=$(sed -n 's|.* \([0-9.]*\) domains/s.*|\1|p' "$WORK/driver.out")
echo "chaos: failover (kill -> first committed write): ${FAILOVERS:-none}; committed ${RATE:-?} domains/s"
echo "chaos: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
