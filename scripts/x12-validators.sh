#!/usr/bin/env bash
# Makes (or reuses) the virtual environments of the outside X12 validators and prints their paths:
#   <dir>/x12    linuxforhealth-x12 0.57.0 with pydantic<2 (command lfhx12), checks what RCMX12 writes
#   <dir>/pyx12  pyx12 4.0.0 (the benchmark's comparison parser)
# <dir> is $RCM_VENV_DIR, default .build/venvs in the repo root.
# Output lines: "RCM_LFHX12=<path to lfhx12>" and "PYX12_PYTHON=<path to python of the pyx12 venv>".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENVS=${RCM_VENV_DIR:-$ROOT/.build/venvs}
mkdir -p "$VENVS"

# ensure_venv DIR PACKAGES...: creates DIR (if absent) and pip-installs the PACKAGES not yet there.
ensure_venv() {
    local venv=$1 spec missing=()
    shift
    if [[ ! -x $venv/bin/python ]]; then
        python3 -m venv "$venv" >&2 || {
            bash "$ROOT/scripts/install-deps.sh" python3-venv >&2
            python3 -m venv "$venv" >&2
        }
    fi
    for spec in "$@"; do
        "$venv/bin/pip" show --quiet "${spec%%[<>=!~;[ ]*}" >/dev/null 2>&1 || missing+=("$spec")
    done
    if ((${#missing[@]} > 0)); then "$venv/bin/pip" install --quiet "${missing[@]}" >&2; fi
}

ensure_venv "$VENVS/x12" 'linuxforhealth-x12==0.57.0' 'pydantic<2'
ensure_venv "$VENVS/pyx12" 'pyx12==4.0.0'
echo "RCM_LFHX12=$VENVS/x12/bin/lfhx12"
echo "PYX12_PYTHON=$VENVS/pyx12/bin/python"
