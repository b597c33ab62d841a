# shellcheck shell=bash
# Shared code of .ci/e2e.sh and .ci/chaos.sh, sourced by both after they set
# their configuration. Defines functions only, apart from USED_PORTS.
#
# Variables each function reads (R) and sets (W); the caller sets TAG (the
# script's name, prefixed to messages), ADDR, PARENT, WORK, UB_PORT and
# READY_TIMEOUT before using the functions that read them:
#   ok DESC...               R VERBOSE          W PASS
#   bad DESC...              R LAST             W FAIL
#   check DESC COMMAND...                       W LAST (and PASS or FAIL)
#   fatal MESSAGE            R TAG PASS FAIL LAST; exits 1
#   stop_pid PID             -
#   pick_port VAR            R TAG USED_PORTS   W USED_PORTS VAR
#   wait_until T DESC CMD... R TAG SECONDS
#   resolver_answers         R ADDR UB_PORT PARENT
#   answer_section           R LAST
#   has_ad                   R LAST
#   status_is RCODE          R LAST
#   secure_answer NAME TYPE  R ADDR UB_PORT     W LAST
#   write_unbound_conf ADDR@PORT...
#                            R ADDR UB_PORT WORK PARENT; writes
#                              $WORK/unbound.conf, anchored at $WORK/ds.txt
#   start_unbound            R WORK UB_PORT READY_TIMEOUT (and those of
#                              resolver_answers)  W UB_PID

# ---------------------------------------------------------------- checks
ok() {
  PASS=$((PASS + 1))
  if [ "${VERBOSE:-0}" = 1 ]; then echo "ok   $*"; fi
  return 0
}
bad() {
  FAIL=$((FAIL + 1))
  echo "FAIL $*"
  if [ -n "${LAST:-}" ]; then head -40 <<<"$LAST" | while IFS= read -r l; do echo "     | $l"; done; fi
  return 0
}
# check DESCRIPTION COMMAND...: counts one check; COMMAND may set LAST to
# the output shown on failure.
check() {
  local desc=$1
  shift
  LAST=""
  if "$@"; then ok "$desc"; else bad "$desc"; fi
}
# fatal MESSAGE: a step the remaining checks depend on failed.
fatal() {
  bad "$*"
  echo "$TAG: $PASS passed, $FAIL failed"
  exit 1
}

# ---------------------------------------------------------------- helpers
stop_pid() { # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL
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

# write_corefile [EXTRA]: the single-server Corefile of the CI scripts into
# $WORK/Corefile (PARENT, DNS_PORT, ADDR, API_ADDR, SHARD_SIZE, TLSA_HEX); EXTRA is
# more lines for the mxsign block, already indented.
write_corefile() {
  cat >"$WORK/Corefile" <<CONF
$PARENT:$DNS_PORT {
    bind $ADDR
    mxsign {
        data data
        api $API_ADDR
        token-file data/token
        nameserver ns1.$PARENT $ADDR
        shard-size $SHARD_SIZE
        algorithm ecdsap256sha256
        profile {
            ttl 300
            a 192.0.2.25
            aaaa 2001:db8::25
            tlsa 3 1 1 $TLSA_HEX
        }
${1:-}
    }
    errors
}
CONF
}

USED_PORTS=" "
# pick_port VAR: a port free for TCP and UDP on this host, not handed out before,
# below the kernel's ephemeral range (a client socket of another test can hold a port
# in that range at any moment, and a listener cannot bind it then) and used by no
# socket in any state.
pick_port() {
  local p i lo=32768
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((lo > 11000)) || lo=32768
  for ((i = 0; i < 500; i++)); do
    p=$((10000 + RANDOM % (lo - 10000)))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! ss -Hantu | awk '{print $5}' | grep -qE "[:.]$p\$"; then
      USED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  echo "$TAG: no free port" >&2
  exit 2
}

# wait_until TIMEOUT DESCRIPTION COMMAND...: poll every 0.1 s.
wait_until() {
  local timeout=$1 desc=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "$TAG: timed out after ${timeout}s waiting for $desc" >&2
      return 1
    fi
    sleep 0.1
  done
}

# ---------------------------------------------------------------- unbound
resolver_answers() { dig +tries=1 +time=1 @"$ADDR" -p "$UB_PORT" "$PARENT" SOA | grep -q 'status: '; }

# answer_section: the ANSWER section lines of the dig output in $LAST.
answer_section() { awk '/^;; ANSWER SECTION:/{a=1; next} /^$/{a=0} a' <<<"$LAST"; }
has_ad() { grep -qE '^;; flags:[^;]* ad[ ;]' <<<"$LAST"; }
status_is() { grep -q "status: $1," <<<"$LAST"; }

# secure_answer NAME TYPE: through unbound, NOERROR, AD set, an answer of TYPE.
secure_answer() {
  LAST=$(dig +dnssec +time=3 +tries=2 @"$ADDR" -p "$UB_PORT" "$1" "$2" 2>&1) || return 1
  status_is NOERROR && has_ad && answer_section | awk -v t="$2" '$4 == t {f=1} END {exit !f}'
}

# write_unbound_conf ADDR@PORT...: $WORK/unbound.conf for a validating unbound
# on $ADDR:$UB_PORT, trust anchor $WORK/ds.txt, with a stub zone for $PARENT
# at the given authoritative servers.
write_unbound_conf() {
  local stub
  {
    cat <<CONF
server:
    interface: $ADDR
    port: $UB_PORT
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$WORK"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "validator iterator"
    trust-anchor-file: "$WORK/ds.txt"
    harden-dnssec-stripped: yes
    val-permissive-mode: no
    prefetch: no
remote-control:
    control-enable: no
stub-zone:
    name: "$PARENT"
CONF
    for stub in "$@"; do echo "    stub-addr: $stub"; done
  } >"$WORK/unbound.conf"
}

# start_unbound: start unbound on $WORK/unbound.conf in the background (log
# $WORK/unbound.log), set UB_PID and wait up to READY_TIMEOUT s for it to
# answer; returns 1 if it does not.
start_unbound() {
  (exec unbound -d -c "$WORK/unbound.conf") >>"$WORK/unbound.log" 2>&1 &
  # shellcheck disable=SC2034 # read by the sourcing script (cleanup, messages)
  UB_PID=$!
  wait_until "$READY_TIMEOUT" "unbound on port $UB_PORT" resolver_answers
}

# A single mxsign under test (e2e.sh, rollover.sh). Reads ADDR, PARENT, WORK, API_ADDR,
# BIN; mxctl_ok sets LAST.
soa_answers() { dig +tries=1 +time=1 +norec @"$ADDR" -p "$1" "$PARENT" SOA | grep -q 'status: NOERROR'; }
api_ready() { curl -sf -o /dev/null -H "Authorization: Bearer $(cat "$WORK/data/token")" "http://$API_ADDR/v1/zones"; }
mxctl() { (cd "$WORK" && MXSIGN_API="$API_ADDR" "$BIN/mxctl" "$@"); }
mxctl_ok() { LAST=$(mxctl "$@" 2>&1); }
