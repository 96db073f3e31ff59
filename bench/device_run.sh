#!/usr/bin/env bash
# Run a command on a lent GPU machine that has CuPy but no pip access and none of
# coprove's other runtime packages.  From the repository root there:
#
#   bash bench/device_run.sh python3 bench/e2e.py --sizes 16,18,20 --reps 3 --jobs 9 --inflight 3
#
# .whl/    cp312 manylinux wheels of grpcio, grpcio-health-checking, protobuf, cryptography
#          (+ cffi, pycparser), py_ecc (+ eth-utils, eth-typing, eth-hash, cytoolz, toolz,
#          pydantic, pydantic-core, typing-extensions, typing-inspection, annotated-types)
#          and prometheus-client, fetched here with `pip download --only-binary=:all:
#          --python-version 3.12 --platform manylinux2014_x86_64 ...` (versions as in
#          pyproject's floor; see bench/RESULTS.md for the exact set used)
# .kcache/ prebuilt cubins (`python bench/gpu_check.py --prebuild --nvrtc libnvrtc.so.13`),
#          so the first run does not spend minutes in NVRTC
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
if [ -d .kcache ]; then
    mkdir -p /tmp/kc && cp .kcache/* /tmp/kc/ && export GPU_MSM_KERNEL_CACHE=/tmp/kc
fi
nvidia-smi -L
exec "$@"
