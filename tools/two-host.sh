#!/usr/bin/env bash
# The closest this machine comes to a cluster: two network namespaces (rvA, rvB) joined by a veth pair, one MPI rank
# in each, TCP between them, and the data-parallel equivalence test run through them (MPITrainTests with
# REVERIE_MPI_LAUNCHER=tools/two-host/mpirun). Needs root (ip netns), iproute2, Open MPI and the test build
# (`make test` first); `make two-host` passes the build flags.
#   tools/two-host.sh [SWIFT TEST FLAGS…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OPENBLAS_NUM_THREADS=1  # one core per rank; mpirun passes it on (-x)
cleanup() {
    ip netns del rvA 2>/dev/null || true
    ip netns del rvB 2>/dev/null || true
}
cleanup
trap cleanup EXIT
if ! err=$(ip netns add rvA 2>&1); then
    # Without the privilege to make namespaces (an unprivileged container) there is no second host to make; say so
    # loudly rather than fail a CI that cannot run this. Any other failure fails.
    if [[ $err == *"not permitted"* ]]; then
        echo "two-host: SKIPPED — this machine does not allow network namespaces ($err)" >&2
        exit 0
    fi
    echo "$err" >&2
    exit 1
fi
ip netns add rvB
ip link add rvA0 type veth peer name rvB0
ip link set rvA0 netns rvA
ip link set rvB0 netns rvB
ip -n rvA addr add 10.77.0.1/24 dev rvA0
ip -n rvB addr add 10.77.0.2/24 dev rvB0
for ns in rvA rvB; do
    ip -n "$ns" link set lo up
done
ip -n rvA link set rvA0 up
ip -n rvB link set rvB0 up
echo "two hosts: rvA 10.77.0.1, rvB 10.77.0.2 (veth, TCP); the ranks' hostnames and addresses:"
"$here/two-host/mpirun" bash -c 'echo "rank $OMPI_COMM_WORLD_RANK on $(hostname): $(ip -br -4 addr show | grep -v "^lo")"'
REVERIE_MPI_LAUNCHER="$here/two-host/mpirun" swift test --skip-build --disable-swift-testing "$@" \
    --filter 'MPITrainTests.testTwoRanksTrainAsOneProcess'
