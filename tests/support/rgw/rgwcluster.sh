#!/bin/sh
# A single-node Ceph cluster with the RADOS Gateway, for the S3 tests.
#
#   rgwcluster.sh DIR MON_PORT RGW_PORT STS_PORT
#
# Everything lives in DIR (configuration, monitor store, logs, sockets); the
# object store is in memory. Nothing outside DIR is read or written: no
# /etc/ceph, no systemd, no keyring of the host. Listens on 127.0.0.1 only.
#
# Two gateways share the cluster: the one on RGW_PORT is plain S3; the one on
# STS_PORT also runs the Secure Token Service (AssumeRole, GetSessionToken)
# and accepts its temporary credentials. With the token service enabled, RGW
# 16.2 answers every failed signature check with AccessDenied instead of
# SignatureDoesNotMatch or InvalidAccessKeyId, hence a gateway without it.
#
# Prints "RGW_READY <rgw port> <sts port>" once both gateways answer and the
# users and buckets below exist, then runs until its standard input ends (or
# it gets TERM/INT), stops the daemons it started and prints the peak
# resident memory of each ("RGW_MEMORY sts=<kB> rgw=<kB> osd=<kB> mon=<kB>").
#
# Users:   tester / TESTERKEY / TESTERSECRET owns the bucket "attachments"
#          other  / OTHERKEY  / OTHERSECRET  owns the bucket "private"
# tester may ask for temporary credentials (GetSessionToken).
set -u

dir=${1:?directory}
mon_port=${2:?monitor port}
rgw_port=${3:?gateway port}
sts_port=${4:?token service gateway port}
# Each step is bounded; the whole start-up usually takes a few seconds.
step_timeout=${RGW_STEP_TIMEOUT:-60}

conf=$dir/ceph.conf
pids=""

say() { printf '%s\n' "$*"; }
fail() {
    say "RGW_FAILED $*"
    for log in "$dir"/log/*.log; do
        [ -s "$log" ] || continue
        say "--- last lines of $log"
        tail -n 15 "$log"
    done
    stop
    exit 1
}

peak_kb() {
    # VmHWM: the peak resident set size of a running process.
    sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null
}

stopped=0
stop() {
    [ "$stopped" = 1 ] && return
    stopped=1
    memory=""
    for entry in $pids; do
        name=${entry%%:*}
        pid=${entry#*:}
        memory="$memory $name=$(peak_kb "$pid")"
    done
    [ -n "$memory" ] && say "RGW_MEMORY$memory"
    # The gateway first, the monitor last, each by the pid it was started with.
    for entry in $pids; do
        kill "${entry#*:}" 2>/dev/null
    done
    for entry in $pids; do
        pid=${entry#*:}
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    pids=""
}
trap 'stop; exit 0' TERM INT HUP

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl; do
    command -v "$tool" >/dev/null 2>&1 || { say "RGW_MISSING $tool"; exit 2; }
done

mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log" "$dir/crash" "$dir/rgw/client.rgw" "$dir/rgw/client.sts" || fail "cannot create $dir"
fsid=$(cat /proc/sys/kernel/random/uuid)

# auth none: the cluster is reachable from this machine only and lives for
# one test run. With it, messenger v2 must use its crc mode: the gateway asks
# for the secure mode by default, which needs cephx, and retries forever.
cat > "$conf" <<EOF || fail "cannot write $conf"
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
ms bind msgr1 = false
ms bind ipv6 = false
ms mon client mode = crc
ms client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
keyring = $dir/keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
crash dir = $dir/crash
mon data = $dir/mon/\$cluster-\$id
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd op num shards = 1
osd op num threads per shard = 2
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
rgw data = $dir/rgw/\$name
rgw thread pool size = 64
rgw enable usage log = false

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port

[client.sts]
rgw frontends = beast endpoint=127.0.0.1:$sts_port
rgw s3 auth use sts = true
rgw sts key = abcdefghijklmnop
EOF

export CEPH_CONF="$conf"
bounded() { timeout "$step_timeout" "$@"; }

bounded ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' \
    >/dev/null 2>"$dir/log/setup.err" || fail "ceph-authtool: $(cat "$dir/log/setup.err")"
bounded monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" \
    >/dev/null 2>"$dir/log/setup.err" || fail "monmaptool: $(cat "$dir/log/setup.err")"
bounded ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring" \
    >"$dir/log/setup.err" 2>&1 || fail "ceph-mon --mkfs: $(cat "$dir/log/setup.err")"

ceph-mon -i a -f >"$dir/log/mon.out" 2>&1 &
pids="mon:$!"

osd_id=$(bounded ceph osd create 2>"$dir/log/setup.err") || fail "the monitor does not answer: $(cat "$dir/log/setup.err" "$dir/log/mon.out")"
mkdir -p "$dir/osd/ceph-$osd_id"
bounded ceph-osd -i "$osd_id" --mkfs --osd-uuid "$(cat /proc/sys/kernel/random/uuid)" \
    >"$dir/log/setup.err" 2>&1 || fail "ceph-osd --mkfs: $(cat "$dir/log/setup.err")"
ceph-osd -i "$osd_id" -f >"$dir/log/osd.out" 2>&1 &
pids="osd:$! $pids"

radosgw -n client.rgw -f >"$dir/log/rgw.out" 2>&1 &
pids="rgw:$! $pids"

# The gateway creates its pools once the OSD is up, then opens its port.
wait_for_port() {
    i=0
    until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; do
        for entry in $pids; do
            kill -0 "${entry#*:}" 2>/dev/null || fail "${entry%%:*} exited: $(tail -n 5 "$dir/log/${entry%%:*}.out")"
        done
        i=$((i + 1))
        [ $i -gt $((step_timeout * 10)) ] && fail "the gateway on port $1 did not answer within ${step_timeout} s"
        sleep 0.1
    done
}
wait_for_port "$rgw_port"
# The second gateway finds the pools made.
radosgw -n client.sts -f >"$dir/log/sts.out" 2>&1 &
pids="sts:$! $pids"

make_user() {
    bounded radosgw-admin user create --uid="$1" --display-name="$1" --access-key="$2" \
        --secret-key="$3" >/dev/null 2>"$dir/log/setup.err" \
        || fail "radosgw-admin user create $1: $(cat "$dir/log/setup.err")"
    status=$(bounded curl -s -o "$dir/log/bucket.out" -w '%{http_code}' -X PUT \
        --aws-sigv4 "aws:amz:us-east-1:s3" --user "$2:$3" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "http://127.0.0.1:$rgw_port/$4")
    [ "$status" = 200 ] || fail "creating bucket $4: HTTP $status $(cat "$dir/log/bucket.out")"
}
make_user tester TESTERKEY TESTERSECRET attachments
make_user other OTHERKEY OTHERSECRET private

# Temporary credentials: the gateway hands them out only to users whose IAM
# policy allows sts:GetSessionToken; setting the policy needs the user-policy cap.
bounded radosgw-admin caps add --uid=tester --caps="user-policy=*" >/dev/null 2>"$dir/log/setup.err" \
    || fail "radosgw-admin caps add: $(cat "$dir/log/setup.err")"
policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetSessionToken"],"Resource":"*"}]}'
status=$(bounded curl -s -o "$dir/log/policy.out" -w '%{http_code}' -X POST \
    --aws-sigv4 "aws:amz:us-east-1:iam" --user "TESTERKEY:TESTERSECRET" \
    --data-urlencode "Action=PutUserPolicy" --data-urlencode "UserName=tester" \
    --data-urlencode "PolicyName=session-tokens" --data-urlencode "PolicyDocument=$policy" \
    "http://127.0.0.1:$rgw_port/")
[ "$status" = 200 ] || fail "PutUserPolicy: HTTP $status $(cat "$dir/log/policy.out")"

wait_for_port "$sts_port"
say "RGW_READY $rgw_port $sts_port"
# Runs until the test closes our standard input.
cat >/dev/null
stop
exit 0
