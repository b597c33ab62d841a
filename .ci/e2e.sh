#!/usr/bin/env bash
# End-to-end test of mxsign with real validators.
#
# Builds bin/mxsign and bin/mxctl (unless SKIP_BUILD=1), starts mxsign on free
# ports of 127.0.0.1 with a fresh data directory, provisions ~50 generated
# customer domains with mxctl (single adds and an import), takes the trust
# anchor from `mxctl ds mx.example.`, and checks through a validating unbound
# (stub zone at mxsign, trust anchor from the DS) and delv that every host's
# A/AAAA/TLSA answer validates, that names that do not exist are securely
# denied (RFC 9824 compact denial: NOERROR + NSEC with NXNAME when DO is set,
# plain NXDOMAIN without DO, FORMERR for a query of type NXNAME), that the API
# refuses a missing or wrong token, that a restart keeps every domain and the
# DS, and that a deleted domain is securely denied. A last phase restarts mxsign
# with `denial nsec` (a pre-signed NSEC chain per zone, RFC 4035) and checks that
# unbound validates its NXDOMAIN (AD, rcode NXDOMAIN) and NODATA answers, that delv
# says fully validated, and that the proofs are classic NSEC (no NXNAME).
#
# Env: N (50) domains, SEED (e2e), SHARD_SIZE (8) hosts per shard,
#      READY_TIMEOUT (60) s, BIN (<repo>/bin), SKIP_BUILD, KEEP=1 keeps the
#      work directory, VERBOSE=1 prints every passing check.
# Last line: "e2e: N passed, M failed"; exit status 1 on any failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG=e2e
BIN=${BIN:-$ROOT/bin}
N=${N:-50}
SEED=${SEED:-e2e}
SHARD_SIZE=${SHARD_SIZE:-8}
READY_TIMEOUT=${READY_TIMEOUT:-60}
ADDR=127.0.0.1
PARENT=mx.example.
TLSA_HEX=$(printf 'mxsign-e2e' | sha256sum | cut -d' ' -f1)
# shellcheck source=.ci/lib.sh
source "$ROOT/.ci/lib.sh"

for b in dig delv unbound curl jq ss go; do
  command -v "$b" >/dev/null || { echo "e2e: missing $b" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/mxsign-e2e.XXXXXX)
MX_PID=""
UB_PID=""
PASS=0
FAIL=0

cleanup() {
  local rc=$?
  stop_pid "$UB_PID"
  stop_pid "$MX_PID"
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "e2e: work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers

api_get() { # api_get PATH: body on stdout, fails on a non-2xx status
  curl -sS -f -H "Authorization: Bearer $(cat "$WORK/data/token")" "http://$API_ADDR$1"
}
uri() { jq -rn --arg s "$1" '$s|@uri'; }

start_mxsign() {
  (cd "$WORK" && exec "$BIN/mxsign" -conf "$WORK/Corefile") >>"$WORK/mxsign.log" 2>&1 &
  MX_PID=$!
  wait_until "$READY_TIMEOUT" "mxsign to answer SOA on port $DNS_PORT" soa_answers "$DNS_PORT" ||
    { tail -30 "$WORK/mxsign.log" >&2; fatal "mxsign starts and answers SOA"; }
  wait_until "$READY_TIMEOUT" "the admin API on $API_ADDR" api_ready ||
    { tail -30 "$WORK/mxsign.log" >&2; fatal "admin API answers"; }
  ok "mxsign started (pid $MX_PID)"
}

start_resolver() {
  start_unbound || { tail -30 "$WORK/unbound.log" >&2; fatal "unbound starts"; }
  ok "unbound started (pid $UB_PID)"
}

# secure_denial NAME TYPE: through unbound, NOERROR or NXDOMAIN, AD set, no answer of TYPE.
secure_denial() {
  LAST=$(dig +dnssec +time=3 +tries=2 @"$ADDR" -p "$UB_PORT" "$1" "$2" 2>&1) || return 1
  { status_is NOERROR || status_is NXDOMAIN; } && has_ad &&
    ! answer_section | awk -v t="$2" '$4 == t {f=1} END {exit !f}'
}
# compact_denial NAME: straight from mxsign with DO: NOERROR, no answer,
# an NSEC owned by NAME whose bitmap has NXNAME (type 128), RFC 9824 §3.1.
compact_denial() {
  local name=${1%.}.
  LAST=$(dig +dnssec +norec +time=2 +tries=2 @"$ADDR" -p "$DNS_PORT" "$name" A 2>&1) || return 1
  status_is NOERROR && grep -q 'ANSWER: 0,' <<<"$LAST" &&
    awk -v n="$name" 'tolower($1) == tolower(n) && $4 == "NSEC" && /NXNAME|TYPE128/ {f=1} END {exit !f}' <<<"$LAST"
}
# delv_valid NAME TYPE: delv straight at mxsign from the mx.example. anchor.
delv_valid() {
  LAST=$(delv @"$ADDR" -p "$DNS_PORT" -a "$WORK/anchor.conf" +root="$PARENT" "$1" "$2" 2>&1) || return 1
  grep -q '^; fully validated' <<<"$LAST" && ! grep -q 'resolution failed' <<<"$LAST"
}
# secure_rcode RCODE NAME TYPE: through unbound, RCODE, AD set, no answer.
secure_rcode() {
  LAST=$(dig +dnssec +time=3 +tries=2 @"$ADDR" -p "$UB_PORT" "$2" "$3" 2>&1) || return 1
  status_is "$1" && has_ad && grep -q 'ANSWER: 0,' <<<"$LAST"
}
# chain_denial RCODE NAME TYPE: straight from mxsign with DO (`denial nsec`): RCODE,
# no answer, NSEC records in the authority section, none owned by NAME when it does
# not exist, none with NXNAME (RFC 4035 §3.1.3, not RFC 9824).
chain_denial() {
  local want=$1 name=${2%.}. type=$3
  LAST=$(dig +dnssec +norec +time=2 +tries=2 @"$ADDR" -p "$DNS_PORT" "$name" "$type" 2>&1) || return 1
  status_is "$want" && grep -q 'ANSWER: 0,' <<<"$LAST" &&
    awk '$4 == "NSEC" {n++} /NXNAME|TYPE128/ {x=1} END {exit !(n >= 1 && !x)}' <<<"$LAST" &&
    { [ "$want" != NXDOMAIN ] || ! awk -v n="$name" 'tolower($1) == tolower(n) && $4 == "NSEC" {f=1} END {exit !f}' <<<"$LAST"; }
}
delv_denied() {
  LAST=$(delv @"$ADDR" -p "$DNS_PORT" -a "$WORK/anchor.conf" +root="$PARENT" "$1" "$2" 2>&1) || return 1
  grep -q 'negative response, fully validated' <<<"$LAST"
}

# Checks on the admin API and mxctl; each sets LAST for the failure report.
mxctl_shows() { # mxctl_shows TEXT ARGS...: mxctl ARGS succeeds and prints TEXT
  local want=${1%.}
  shift
  LAST=$(mxctl "$@" 2>&1) && grep -qiF "$want" <<<"$LAST"
}
normalize_rrs() { tr -s ' \t' ' ' | grep . | sort; }
api_ds_matches() {
  LAST=$(api_get "/v1/zones/$PARENT/ds" 2>&1) || return 1
  diff <(jq -r '.ds[]' <<<"$LAST" | normalize_rrs) <(normalize_rrs <"$WORK/ds.txt") >/dev/null
}
ds_unchanged() {
  LAST=$(mxctl ds "$PARENT" 2>&1) || return 1
  diff <(normalize_rrs <<<"$LAST") <(normalize_rrs <"$WORK/ds.txt") >/dev/null
}
host_is() { # host_is DOMAIN HOST: the API's mailExchange for DOMAIN is HOST
  local got
  LAST=$(api_get "/v1/domains/$(uri "$1")" 2>&1) || return 1
  got=$(jq -r '.mailExchange // empty' <<<"$LAST") || return 1
  [ "${got%.}." = "$2" ]
}
# rcode_direct RCODE NAME TYPE [DIG OPTION...]: straight from mxsign.
rcode_direct() {
  local want=$1 name=$2 type=$3
  shift 3
  LAST=$(dig +norec +time=2 +tries=2 "$@" @"$ADDR" -p "$DNS_PORT" "$name" "$type" 2>&1) || return 1
  status_is "$want"
}
# plain_nxdomain NAME: without DO, NXDOMAIN and no NSEC (RFC 9824 §5).
plain_nxdomain() {
  rcode_direct NXDOMAIN "$1" A && ! grep -qE '[[:space:]]NSEC[[:space:]]' <<<"$LAST"
}
unauthorized() { # the API refuses a request without the token
  LAST=$(curl -s -o /dev/null -w '%{http_code}' "http://$API_ADDR/v1/zones")
  [ "$LAST" = 401 ]
}
mxctl_bad_token() { # mxctl exits 3 (unauthorized) with a wrong token
  local rc=0
  LAST=$(cd "$WORK" && MXSIGN_API="$API_ADDR" "$BIN/mxctl" --token wrong-token zones 2>&1) || rc=$?
  [ "$rc" = 3 ]
}
api_status_is() { # api_status_is PATH CODE
  LAST=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$WORK/data/token")" "http://$API_ADDR$1")
  [ "$LAST" = "$2" ]
}

# ---------------------------------------------------------------- build
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && go build -o "$BIN/" ./cmd/mxsign ./cmd/mxctl)
fi
(cd "$ROOT" && go build -o "$WORK/tools/" ./testzones/cmd/gendomains)
for b in mxsign mxctl; do [ -x "$BIN/$b" ] || { echo "e2e: $BIN/$b not built" >&2; exit 2; }; done

pick_port DNS_PORT
pick_port API_PORT
pick_port UB_PORT
API_ADDR="$ADDR:$API_PORT"
echo "e2e: work $WORK, mxsign dns $ADDR:$DNS_PORT api $API_ADDR, unbound $ADDR:$UB_PORT"

write_corefile ""

# ---------------------------------------------------------------- provision
start_mxsign

"$WORK/tools/gendomains" -n "$N" -seed "$SEED" >"$WORK/domains.txt"
mapfile -t DOMAINS <"$WORK/domains.txt"
((${#DOMAINS[@]} >= 20)) || fatal "need at least 20 domains, got ${#DOMAINS[@]}"
# 10 single adds, 10 in one mxctl call, the rest through an import file.
for d in "${DOMAINS[@]:0:10}"; do
  check "mxctl domain add $d" mxctl_ok domain add "$d"
done
check "mxctl domain add (10 at once)" mxctl_ok domain add "${DOMAINS[@]:10:10}"
printf '%s\n' "${DOMAINS[@]:20}" >"$WORK/import.txt"
check "mxctl domain import ($((${#DOMAINS[@]} - 20)) domains)" mxctl_ok domain import "$WORK/import.txt"

# The host name of every domain, from the API.
declare -A HOST
for d in "${DOMAINS[@]}"; do
  h=$(api_get "/v1/domains/$(uri "$d")" 2>/dev/null | jq -r '.mailExchange // empty' 2>/dev/null || true)
  if [ -n "$h" ]; then
    HOST[$d]=${h%.}.
    ok "GET /v1/domains/$d -> $h"
  else
    LAST=$(api_get "/v1/domains/$(uri "$d")" 2>&1 || true)
    bad "GET /v1/domains/$d has a mailExchange"
  fi
done
check "mxctl domain get ${DOMAINS[0]} shows its host" mxctl_shows "${HOST[${DOMAINS[0]}]:-unknown}" domain get "${DOMAINS[0]}"
check "mxctl domain list shows the last domain's host" mxctl_shows "${HOST[${DOMAINS[${#DOMAINS[@]} - 1]}]:-unknown}" domain list --all
check "mxctl zones shows $PARENT" mxctl_shows "$PARENT" zones

mxctl ds "$PARENT" >"$WORK/ds.txt" 2>"$WORK/ds.err" || { LAST=$(cat "$WORK/ds.err"); fatal "mxctl ds $PARENT"; }
grep -qE '^mx\.example\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+DS[[:space:]]' "$WORK/ds.txt" ||
  { LAST=$(cat "$WORK/ds.txt"); fatal "mxctl ds $PARENT prints DS records"; }
ok "mxctl ds $PARENT ($(grep -c . "$WORK/ds.txt") DS)"
check "GET /v1/zones/$PARENT/ds matches mxctl ds" api_ds_matches

# delv anchor: trust-anchors { mx.example. static-ds TAG ALG DIGTYPE "DIGEST"; };
{
  echo "trust-anchors {"
  awk '$4 == "DS" {d = ""; for (i = 8; i <= NF; i++) d = d $i; printf "  %s static-ds %s %s %s \"%s\";\n", $1, $5, $6, $7, d}' "$WORK/ds.txt"
  echo "};"
} >"$WORK/anchor.conf"

write_unbound_conf "$ADDR@$DNS_PORT"

start_resolver

# ---------------------------------------------------------------- validate
DELETED=${DOMAINS[${#DOMAINS[@]} - 1]} # kept out of the resolver's cache
declare -A SHARDS
for d in "${DOMAINS[@]}"; do
  h=${HOST[$d]:-}
  [ -n "$h" ] || continue
  SHARDS[${h#*.}]=1
  [ "$d" = "$DELETED" ] && continue
  check "unbound $h A secure" secure_answer "$h" A
  check "unbound $h AAAA secure" secure_answer "$h" AAAA
  check "unbound _25._tcp.$h TLSA secure" secure_answer "_25._tcp.$h" TLSA
done
check "unbound $PARENT SOA secure" secure_answer "$PARENT" SOA
check "unbound $PARENT DNSKEY secure" secure_answer "$PARENT" DNSKEY
echo "e2e: ${#SHARDS[@]} shard(s) in use"
for z in "${!SHARDS[@]}"; do
  check "unbound $z DNSKEY secure" secure_answer "$z" DNSKEY
  check "unbound nx-e2e.$z A denied securely" secure_denial "nx-e2e.$z" A
  check "mxsign nx-e2e.$z A compact denial (NXNAME)" compact_denial "nx-e2e.$z"
done
check "admin API without token is 401" unauthorized
check "mxctl with a wrong token exits 3" mxctl_bad_token
check "mxsign nx-e2e.$PARENT A without DO is NXDOMAIN, no NSEC" plain_nxdomain "nx-e2e.$PARENT"
check "mxsign query for type NXNAME is FORMERR (RFC 9824 3.5)" rcode_direct FORMERR "nx-e2e.$PARENT" TYPE128 +dnssec
check "unbound nx-e2e.$PARENT A denied securely" secure_denial "nx-e2e.$PARENT" A
check "mxsign nx-e2e.$PARENT A compact denial (NXNAME)" compact_denial "nx-e2e.$PARENT"
check "delv nx-e2e.$PARENT A negative, fully validated" delv_denied "nx-e2e.$PARENT" A
FIRST_HOSTS=()
for d in "${DOMAINS[@]:0:3}" "$DELETED"; do [ -n "${HOST[$d]:-}" ] && FIRST_HOSTS+=("${HOST[$d]}"); done
for h in "${FIRST_HOSTS[@]}"; do
  check "delv $h A fully validated" delv_valid "$h" A
  check "delv $h AAAA fully validated" delv_valid "$h" AAAA
  check "delv _25._tcp.$h TLSA fully validated" delv_valid "_25._tcp.$h" TLSA
done
if [ -n "${FIRST_HOSTS[0]:-}" ]; then
  check "delv nx-e2e.${FIRST_HOSTS[0]#*.} A negative, fully validated" delv_denied "nx-e2e.${FIRST_HOSTS[0]#*.}" A
fi

# ---------------------------------------------------------------- restart
stop_pid "$UB_PID"
UB_PID=""
stop_pid "$MX_PID"
MX_PID=""
start_mxsign
check "DS unchanged after restart" ds_unchanged
for d in "${DOMAINS[@]}"; do
  [ -n "${HOST[$d]:-}" ] || continue
  check "after restart GET /v1/domains/$d unchanged" host_is "$d" "${HOST[$d]}"
done
start_resolver
for d in "${DOMAINS[@]}"; do
  h=${HOST[$d]:-}
  if [ -z "$h" ] || [ "$d" = "$DELETED" ]; then continue; fi
  check "after restart unbound $h A secure" secure_answer "$h" A
done

# ---------------------------------------------------------------- delete
if [ -n "${HOST[$DELETED]:-}" ]; then
  h=${HOST[$DELETED]}
  check "mxctl domain rm $DELETED" mxctl_ok domain rm "$DELETED"
  check "GET /v1/domains/$DELETED is 404 after rm" api_status_is "/v1/domains/$(uri "$DELETED")" 404
  check "mxsign $h A compact denial after rm" compact_denial "$h"
  check "unbound $h A denied securely after rm" secure_denial "$h" A
  check "unbound _25._tcp.$h TLSA denied securely after rm" secure_denial "_25._tcp.$h" TLSA
  check "delv $h A negative, fully validated after rm" delv_denied "$h" A
fi

# ---------------------------------------------------------------- denial nsec
stop_pid "$UB_PID"
UB_PID=""
stop_pid "$MX_PID"
MX_PID=""
sed -i 's/^\( *\)algorithm ecdsap256sha256$/&\n\1denial nsec/' "$WORK/Corefile"
grep -q '^ *denial nsec$' "$WORK/Corefile" || fatal "Corefile has denial nsec"
start_mxsign
start_resolver # a fresh cache
NSEC_HOSTS=()
for d in "${DOMAINS[@]:0:3}"; do [ -n "${HOST[$d]:-}" ] && NSEC_HOSTS+=("${HOST[$d]}"); done
for h in "${NSEC_HOSTS[@]}"; do
  z=${h#*.}
  check "nsec: unbound $h A secure" secure_answer "$h" A
  check "nsec: mxsign nx-nsec.$z A NXDOMAIN with a chain proof" chain_denial NXDOMAIN "nx-nsec.$z" A
  check "nsec: unbound nx-nsec.$z A NXDOMAIN, AD" secure_rcode NXDOMAIN "nx-nsec.$z" A
  check "nsec: unbound x.y.$h AAAA NXDOMAIN, AD" secure_rcode NXDOMAIN "x.y.$h" AAAA
  check "nsec: mxsign $h MX NODATA with the name's NSEC" chain_denial NOERROR "$h" MX
  check "nsec: unbound $h MX NODATA, AD" secure_rcode NOERROR "$h" MX
  check "nsec: unbound _tcp.$h TXT NODATA (empty non-terminal), AD" secure_rcode NOERROR "_tcp.$h" TXT
  check "nsec: delv nx-nsec.$z A negative, fully validated" delv_denied "nx-nsec.$z" A
  check "nsec: delv $h MX negative, fully validated" delv_denied "$h" MX
done
check "nsec: unbound nx-nsec.$PARENT A NXDOMAIN, AD" secure_rcode NXDOMAIN "nx-nsec.$PARENT" A
check "nsec: delv nx-nsec.$PARENT A negative, fully validated" delv_denied "nx-nsec.$PARENT" A
check "nsec: mxsign nx-nsec.$PARENT A without DO is NXDOMAIN, no NSEC" plain_nxdomain "nx-nsec.$PARENT"
if [ -n "${HOST[$DELETED]:-}" ]; then
  check "nsec: unbound ${HOST[$DELETED]} A (deleted) NXDOMAIN, AD" secure_rcode NXDOMAIN "${HOST[$DELETED]}" A
fi

echo "e2e: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
