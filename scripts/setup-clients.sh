#!/usr/bin/env bash
# Installs the real AWS clients (boto3 and the aws CLI) from PyPI into a private virtualenv for
# the client tests (tests/clients/*, driven by `cargo test --test server_clients`).
#
# Idempotent: a venv that already imports boto3 and runs `aws --version` is left alone.
# Offline (PyPI unreachable) it says so loudly and exits 0, so `.ci/run` can go on; the client
# test then reports that it checked nothing.
#
# Usage: scripts/setup-clients.sh [VENV_DIR]   (default: target/clients-venv, or $EXPRESSWAY_CLIENTS_VENV)
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-${EXPRESSWAY_CLIENTS_VENV:-target/clients-venv}}"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import boto3' 2>/dev/null && "$VENV/bin/aws" --version >/dev/null 2>&1; then
    echo "setup-clients: $VENV already has boto3 and the aws CLI"
    exit 0
fi

if ! python3 -m venv "$VENV"; then
    echo "setup-clients: ERROR: cannot create a virtualenv at $VENV (is python3-venv installed?)" >&2
    exit 1
fi
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check boto3 awscli; then
    echo "################################################################################" >&2
    echo "setup-clients: WARNING: could not install boto3/awscli from PyPI (offline?)." >&2
    echo "setup-clients: the boto3 and aws CLI tests of the server will be SKIPPED." >&2
    echo "################################################################################" >&2
    exit 0
fi
echo "setup-clients: installed $("$VENV/bin/python" -c 'import boto3; print("boto3", boto3.__version__)'), $("$VENV/bin/aws" --version 2>&1)"
