#!/usr/bin/env bash
# Regenerates the committed Python code for every proto under protos/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=libs/contracts/src
gapi=$(${PYTHON:-python3.11} -m uv run --frozen python -c 'import google.api.annotations_pb2 as a, os; print(os.path.dirname(os.path.dirname(os.path.dirname(a.__file__))))')
find "$out/beez/api" -name '*_pb2*.py*' -delete
mapfile -t files < <(cd protos && find beez -name '*.proto' | sort)
${PYTHON:-python3.11} -m uv run --frozen python -m grpc_tools.protoc -Iprotos -I"$gapi" \
  --plugin=protoc-gen-mypy_grpc="$(dirname "$(${PYTHON:-python3.11} -m uv run --frozen python -c 'import sys; print(sys.executable)')")/protoc-gen-mypy_grpc" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" --mypy_grpc_out="$out" "${files[@]/#/protos/}"
find "$out/beez/api" -type d -exec touch {}/__init__.py \;
