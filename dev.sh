#!/usr/bin/env bash
# One entry point for a fresh machine with only Python 3.11: creates .venv, installs the project, runs a task.
#   ./dev.sh demo     the main job on the embedded broker with the bundled sample data
#   ./dev.sh test     the whole test suite (what .ci/run runs)
#   ./dev.sh bench    the calculator benchmark
#   ./dev.sh <args>   any groeipakket subcommand, e.g. ./dev.sh calc events.jsonl --from 2024-01 --to 2024-12
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [[ ! -f "$stamp" ]]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[test]"
  rm -f .venv/.installed-*; touch "$stamp"
fi
task=${1:-help}
case "$task" in
  test)
    shift
    exec .venv/bin/python -m pytest "$@" ;;
  bench)
    shift
    exec .venv/bin/python -m bench.calculator "$@" ;;
  help|-h|--help)
    sed -n 2,7p "$0" ;;
  *)
    exec .venv/bin/groeipakket "$@" ;;
esac
