#!/usr/bin/env bash
# End-to-end test of automatic key rollover in compressed real time.
#
# Builds bin/mxsign and bin/mxctl (unless SKIP_BUILD=1), starts mxsign on free
# ports of 127.0.0.1 with a fresh data directory and a compressed rollover
# policy (ZSK lifetime 60 s, shard KSK lifetime 180 s, every TTL capped at 5 s),
# adds N domains with mxctl, takes the trust anchor from `mxctl ds mx.example.`
# (the parent's own KSK roll waits for an operator who never confirms, so the
# anchor stays valid) and starts a validating unbound (stub zone at mxsign).
# Then, for DURATION seconds, once a second it asks unbound for the A and the
# TLSA (_25._tcp.HOST) of every host: a SERVFAIL, a timeout or an answer
# without AD is a failure, printed with its time and dig output. Every
# SAMPLE_EVERY seconds it records the DNSKEY key tags of every shard (flags 256
# ZSK, 257 KSK) and the shard's DS set at the parent, straight from mxsign.
# At the end every shard must have shown at least 3 ZSKs and 2 KSKs, its DS
# set must have changed, and delv must fully validate every host from the
# mx.example. anchor. With the defaults the whole run takes about 4 minutes.
#
# Env: N (5) domains, SHARD_SIZE (3) hosts per shard, DURATION (230) s,
#      SAMPLE_EVERY (5) s, MIN_ZSK (3), MIN_KSK (2), MIN_DS_CHANGES (1),
#      SHOW_FAILS (10) failed queries shown with their dig output (the rest
#      one line each; the key sets are sampled again after such a round),
#      READY_TIMEOUT (60) s, BIN (<repo>/bin), SKIP_BUILD, KEEP=1 keeps the
#      work directory, VERBOSE=1 prints every passing check.
# Prints the answers checked and, per shard, the ZSK/KSK tags seen and the DS
# changes, with a timeline of the key sets. Last line:
# "rollover: N passed, M failed"; exit status 1 on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG=rollover
BIN=${BIN:-$ROOT/bin}
N=${N:-5}
SHARD_SIZE=${SHARD_SIZE:-3}
DURATION=${DURATION:-230}
SAMPLE_EVERY=${SAMPLE_EVERY:-5}
MIN_ZSK=${MIN_ZSK:-3}
MIN_KSK=${MIN_KSK:-2}
MIN_DS_CHANGES=${MIN_DS_CHANGES:-1}
READY_TIMEOUT=${READY_TIMEOUT:-60}
SHOW_FAILS=${SHOW_FAILS:-10}
ADDR=127.0.0.1
PARENT=mx.example.
TLSA_HEX=$(printf 'mxsign-rollover' | sha256sum | cut -d' ' -f1)
# shellcheck source=.ci/lib.sh
source "$ROOT/.ci/lib.sh"

for b in dig delv unbound curl jq ss go awk; do
  command -v "$b" >/dev/null || { echo "rollover: missing $b" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/mxsign-rollover.XXXXXX)
MX_PID=""
UB_PID=""
SAMPLER_PID=""
AF_PIDS=()
PASS=0
FAIL=0

cleanup() {
  local rc=$? p
  stop_pid "$SAMPLER_PID"
  for p in "${AF_PIDS[@]}"; do stop_pid "$p"; done
  stop_pid "$UB_PID"
  stop_pid "$MX_PID"
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "rollover: work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

# Time, without forking where it is called once a query.
now_us() { US=${EPOCHREALTIME//[!0-9]/}; }
# stamp: STAMP="+Ns HH:MM:SS" (seconds since the query loop began, wall clock).
stamp() {
  now_us
  printf -v STAMP '+%ds %(%T)T' $(((US - T0_US) / 1000000)) -1
}

# probe NAME TYPE: one query through unbound (+tries=1 +time=2); sets LAST and
# WHY; 0 if NOERROR with AD and an answer of TYPE. Checks in bash only: a
# round runs 10 of these at once on a small machine.
probe() {
  local ans
  WHY=""
  LAST=$(dig +dnssec +tries=1 +time=2 @"$ADDR" -p "$UB_PORT" "$1" "$2" 2>&1) || {
    WHY="timeout/error (dig exit $?)"
    return 1
  }
  if [[ $LAST != *"status: NOERROR,"* ]]; then
    WHY="no status"
    [[ $LAST =~ status:\ ([A-Z]+), ]] && WHY="status ${BASH_REMATCH[1]}"
    return 1
  fi
  [[ $LAST =~ $'\n'';; flags:'[^\;]*' ad'[\ \;] ]] || { WHY="NOERROR without ad"; return 1; }
  ans=${LAST#*$';; ANSWER SECTION:\n'}
  ans=$'\n'${ans%%$'\n\n'*}
  [[ $LAST == *";; ANSWER SECTION:"* && $ans =~ $'\n'[^[:space:]]+[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+$2[[:space:]] ]] ||
    { WHY="NOERROR, ad, no $2 in the answer"; return 1; }
}

# probe_to FILE NAME TYPE: probe NAME TYPE; write "ok TAG" (TAG: the key tag
# of the answer's RRSIG), or "+Ns HH:MM:SS WHY" and then dig's output, to FILE.
probe_to() {
  local n='[[:space:]]+[0-9]+'
  if probe "$2" "$3"; then
    [[ $LAST =~ [[:space:]]RRSIG[[:space:]]+$3$n$n$n$n$n$n ]] || BASH_REMATCH=("? ?")
    echo "ok ${BASH_REMATCH[0]##* }" >"$1"
  else
    stamp
    printf '%s %s\n%s\n' "$STAMP" "$WHY" "$LAST" >"$1"
  fi
}

# key_tags ZONE: "flags tag" lines of ZONE's DNSKEY set straight from mxsign;
# fails if mxsign does not answer NOERROR.
key_tags() {
  local out
  out=$(dig +dnssec +norec +multiline +tries=2 +time=2 @"$ADDR" -p "$DNS_PORT" "$1" DNSKEY 2>&1) || return 1
  [[ $out == *"status: NOERROR,"* ]] || return 1
  # +multiline: "OWNER TTL IN DNSKEY FLAGS 3 ALG (" ... ") ; ZSK; alg = ... ; key id = TAG"
  awk '$4 == "DNSKEY" && $1 !~ /^;/ {fl = $5} /key id = / {sub(/.*key id = /, ""); print fl, $1 + 0}' <<<"$out"
}
# ds_set ZONE: ZONE's DS set at the parent, straight from mxsign, one
# "tag/alg/digest-type/digest" per line, sorted; fails unless NOERROR.
ds_set() {
  local out
  out=$(dig +norec +tries=2 +time=2 @"$ADDR" -p "$DNS_PORT" "$1" DS 2>&1) || return 1
  [[ $out == *"status: NOERROR,"* ]] || return 1
  awk '$4 == "DS" && $1 !~ /^;/ {d = ""; for (i = 8; i <= NF; i++) d = d $i; print $5 "/" $6 "/" $7 "/" toupper(d)}' <<<"$out" | sort
}

# sample_keys [NOTE]: append a line per shard to $WORK/keys.log:
#   US +Ns HH:MM:SS SHARD ZSK[tags] KSK[tags] DS[tags] DSSET[tag/alg/type/digest,...] NOTE
# or "US +Ns HH:MM:SS SHARD sample-failed NOTE".
sample_keys() {
  local z kt ds zt kk dt
  stamp
  for z in "${SHARD_LIST[@]}"; do
    if ! kt=$(key_tags "$z") || ! ds=$(ds_set "$z"); then
      echo "$US $STAMP $z sample-failed ${1:-}" >>"$WORK/keys.log"
      continue
    fi
    zt=$(awk '$1 == 256 {print $2}' <<<"$kt" | sort -n | paste -sd, -)
    kk=$(awk '$1 == 257 {print $2}' <<<"$kt" | sort -n | paste -sd, -)
    dt=$(cut -d/ -f1 <<<"$ds" | sort -nu | paste -sd, -)
    echo "$US $STAMP $z ZSK[$zt] KSK[$kk] DS[$dt] DSSET[$(paste -sd, - <<<"$ds")] ${1:-}" >>"$WORK/keys.log"
  done
}
# sampler: sample_keys every SAMPLE_EVERY s of the query loop (own process,
# so that a sample never holds up a round of queries).
sampler() {
  local k=0 child=""
  trap 'kill $child 2>/dev/null; exit 0' TERM
  while :; do
    now_us
    (((US - T0_US) / 1000000 < DURATION)) || return 0
    sample_keys
    k=$((k + 1))
    now_us
    wait_us=$((T0_US + k * SAMPLE_EVERY * 1000000 - US))
    if ((wait_us > 0)); then
      sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))" &
      child=$!
      wait "$child" || true
    fi
  done
}
# summarize SHARD: from keys.log (in time order), "NZSK ZSKS NKSK KSKS NDSCHANGES NSAMPLES NERRORS".
summarize() {
  awk -v z="$1" '
    $4 != z {next}
    {n++}
    $5 == "sample-failed" {e++; next}
    {
      zk = $5; kk = $6; sub(/^ZSK\[/, "", zk); sub(/\]$/, "", zk); sub(/^KSK\[/, "", kk); sub(/\]$/, "", kk)
      m = split(zk, a, ","); for (i = 1; i <= m; i++) if (!(a[i] in Z)) {Z[a[i]]; zs = zs (nz++ ? "," : "") a[i]}
      m = split(kk, a, ","); for (i = 1; i <= m; i++) if (!(a[i] in K)) {K[a[i]]; ks = ks (nk++ ? "," : "") a[i]}
      if (seen && $8 != prev) ch++
      prev = $8; seen = 1
    }
    END {printf "%d %s %d %s %d %d %d\n", nz, (zs == "" ? "-" : zs), nk, (ks == "" ? "-" : ks), ch, n, e}' "$WORK/keys.sorted"
}
# timeline: keys.log lines where a shard's DNSKEY or DS tags changed, without US and DSSET.
timeline() {
  awk '$5 == "sample-failed" {print "  " $2, $3, $4, "sample failed", $6, $7, $8, $9; next}
       {v = $5 " " $6 " " $7} v != last[$4] {last[$4] = v; print "  " $2, $3, $4, v}' "$WORK/keys.sorted"
}

# verdict DESC DETAIL COMMAND...: a check that shows DETAIL when it fails.
verdict() {
  local desc=$1 detail=$2
  shift 2
  if "$@"; then ok "$desc"; else LAST=$detail bad "$desc"; fi
}

# delv_valid NAME TYPE: delv straight at mxsign from the mx.example. anchor.
delv_valid() {
  LAST=$(delv @"$ADDR" -p "$DNS_PORT" -a "$WORK/anchors.conf" +root="$PARENT" "$1" "$2" 2>&1) || return 1
  grep -q '^; fully validated' <<<"$LAST" && ! grep -q 'resolution failed' <<<"$LAST"
}

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && go build -o "$BIN/" ./cmd/mxsign ./cmd/mxctl)
fi
for b in mxsign mxctl; do [ -x "$BIN/$b" ] || { echo "rollover: $BIN/$b not built" >&2; exit 2; }; done

pick_port DNS_PORT
pick_port API_PORT
pick_port UB_PORT
API_ADDR="$ADDR:$API_PORT"
echo "rollover: work $WORK, mxsign dns $ADDR:$DNS_PORT api $API_ADDR, unbound $ADDR:$UB_PORT"

write_corefile "        policy {
$(grep -v '^#' "$ROOT/testzones/fast.policy" | sed 's/^/            /')
        }"

# ---------------------------------------------------------------- provision
(cd "$WORK" && exec "$BIN/mxsign" -conf "$WORK/Corefile") >>"$WORK/mxsign.log" 2>&1 &
MX_PID=$!
wait_until "$READY_TIMEOUT" "mxsign to answer SOA on port $DNS_PORT" soa_answers "$DNS_PORT" ||
  { LAST=$(tail -30 "$WORK/mxsign.log"); fatal "mxsign starts and answers SOA"; }
wait_until "$READY_TIMEOUT" "the admin API on $API_ADDR" api_ready ||
  { LAST=$(tail -30 "$WORK/mxsign.log"); fatal "admin API answers"; }
ok "mxsign started (pid $MX_PID)"

DOMAINS=()
for ((i = 1; i <= N; i++)); do DOMAINS+=("rollover$i-$RANDOM.example.com"); done
HOSTS=()
declare -A SHARDS
for d in "${DOMAINS[@]}"; do
  check "mxctl domain add $d" mxctl_ok domain add "$d"
  h=$(mxctl --json domain get "$d" 2>/dev/null | jq -r '.mailExchange // empty' 2>/dev/null || true)
  if [ -n "$h" ]; then
    h=${h%.}.
    HOSTS+=("$h")
    SHARDS[${h#*.}]=1
    ok "mxctl domain get $d -> $h"
  else
    LAST=$(mxctl --json domain get "$d" 2>&1 || true)
    bad "mxctl domain get $d has a mailExchange"
  fi
done
((${#HOSTS[@]} > 0)) || fatal "at least one host provisioned"
mapfile -t SHARD_LIST < <(printf '%s\n' "${!SHARDS[@]}" | sort)
echo "rollover: ${#HOSTS[@]} hosts in ${#SHARD_LIST[@]} shard(s): ${SHARD_LIST[*]}"

LAST=$(mxctl ds "$PARENT" 2>&1 >"$WORK/ds.txt") || fatal "mxctl ds $PARENT"
grep -qE '^mx\.example\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]' "$WORK/ds.txt" ||
  { LAST=$(cat "$WORK/ds.txt"); fatal "mxctl ds $PARENT prints DS records"; }
LAST=$(mxctl ds --trust-anchors "$PARENT" 2>&1 >"$WORK/anchors.conf") || fatal "mxctl ds --trust-anchors $PARENT"
grep -q 'static-ds' "$WORK/anchors.conf" || { LAST=$(cat "$WORK/anchors.conf"); fatal "mxctl ds --trust-anchors prints static-ds"; }
ok "trust anchor: $(grep -c . "$WORK/ds.txt") DS for $PARENT"

write_unbound_conf "$ADDR@$DNS_PORT"
start_unbound || { LAST=$(tail -30 "$WORK/unbound.log"); fatal "unbound starts"; }
ok "unbound started (pid $UB_PID)"

# ---------------------------------------------------------------- roll
# One round a second: the round's queries run in parallel (in sequence a dig
# and its checks take long enough here that a round would overrun its
# second); the key sets are sampled by a process of their own.
QNAME=()
QTYPE=()
QZONE=()
for h in "${HOSTS[@]}"; do
  QNAME+=("$h" "_25._tcp.$h")
  QTYPE+=(A TLSA)
  QZONE+=("${h#*.}" "${h#*.}")
done
mkdir -p "$WORK/q"
: >"$WORK/keys.log"
: >"$WORK/failures.log"
echo "rollover: querying ${#HOSTS[@]} hosts (A, TLSA) through unbound every second for ${DURATION}s;" \
  "key sets sampled every ${SAMPLE_EVERY}s"
ANSWERS=0
QFAILS=0
ROUNDS=0
declare -A SIGNERS # shard -> key tags of the RRSIGs unbound passed on
now_us
T0_US=$US
sampler &
SAMPLER_PID=$!
tick=0
while ((tick < DURATION)); do
  ROUNDS=$((ROUNDS + 1))
  pids=()
  round_shown=0
  for i in "${!QNAME[@]}"; do
    probe_to "$WORK/q/$i" "${QNAME[$i]}" "${QTYPE[$i]}" &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  for i in "${!QNAME[@]}"; do
    ANSWERS=$((ANSWERS + 1))
    line=""
    read -r line <"$WORK/q/$i" || true
    if [[ $line == "ok "* ]]; then
      ok "${QNAME[$i]} ${QTYPE[$i]} secure"
      z=${QZONE[$i]}
      [[ " ${SIGNERS[$z]:-} " == *" ${line#ok } "* ]] || SIGNERS[$z]+=" ${line#ok }"
      continue
    fi
    QFAILS=$((QFAILS + 1))
    echo "$line ${QNAME[$i]} ${QTYPE[$i]}" >>"$WORK/failures.log"
    if ((QFAILS <= SHOW_FAILS)); then
      LAST=$(tail -n +2 "$WORK/q/$i") bad "unbound ${QNAME[$i]} ${QTYPE[$i]} at $line"
      round_shown=1
    else
      LAST="" bad "unbound ${QNAME[$i]} ${QTYPE[$i]} at $line"
    fi
  done
  if ((round_shown)); then # the key sets straight from mxsign, right after
    sample_keys "after-failure" &
    AF_PIDS+=($!)
  fi
  # Sleep to the next whole second of the run (skipping any already past).
  now_us
  tick=$(((US - T0_US) / 1000000 + 1))
  wait_us=$((T0_US + tick * 1000000 - US))
  sleep "$((wait_us / 1000000)).$(printf '%06d' $((wait_us % 1000000)))"
done
wait "$SAMPLER_PID" "${AF_PIDS[@]}" || true
SAMPLER_PID=""
sample_keys final

# ---------------------------------------------------------------- verdict
sort -n "$WORK/keys.log" >"$WORK/keys.sorted"
echo "rollover: key timeline (changes only: time into the loop, shard, its DNSKEY tags, its DS tags at $PARENT):"
timeline
SAMPLE_ERRORS=0
for z in "${SHARD_LIST[@]}"; do
  read -r nz zs nk ks nd ns ne <<<"$(summarize "$z")"
  SAMPLE_ERRORS=$((SAMPLE_ERRORS + ne))
  echo "rollover: $z: $nz ZSKs [$zs], $nk KSKs [$ks], $nd DS changes ($ns samples);" \
    "answers through unbound signed by [${SIGNERS[$z]:+${SIGNERS[$z]# }}]"
  tl=$(timeline | grep -F " $z " || true)
  verdict "$z: at least $MIN_ZSK distinct ZSKs seen ($nz)" "$tl" test "$nz" -ge "$MIN_ZSK"
  verdict "$z: at least $MIN_KSK distinct KSKs seen ($nk)" "$tl" test "$nk" -ge "$MIN_KSK"
  verdict "$z: DS set at $PARENT changed at least $MIN_DS_CHANGES time(s) ($nd)" "$tl" test "$nd" -ge "$MIN_DS_CHANGES"
done
verdict "every key sample answered NOERROR ($SAMPLE_ERRORS errors)" \
  "$(grep sample-failed "$WORK/keys.sorted" || true)" test "$SAMPLE_ERRORS" = 0
verdict "no SERVFAIL, timeout or missing AD through unbound ($QFAILS of $ANSWERS)" \
  "$(head -20 "$WORK/failures.log")" test "$QFAILS" = 0
if ((QFAILS > 0)); then
  echo "rollover: unbound's validation failures (first 20):"
  grep -iE 'validation failure|bogus' "$WORK/unbound.log" | head -20 | sed 's/^/  /' || true
fi
for h in "${HOSTS[@]}"; do
  check "delv $h A fully validated" delv_valid "$h" A
  check "delv _25._tcp.$h TLSA fully validated" delv_valid "_25._tcp.$h" TLSA
done

echo "rollover: $ANSWERS answers checked in $ROUNDS rounds of ${DURATION}s, $QFAILS failed"
echo "rollover: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
