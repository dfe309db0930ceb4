#!/usr/bin/env bash
# Regenerates the committed Python code of the gateway's test-only protos (protos/ -> gen/).
set -euo pipefail
cd "$(dirname "$0")/../.."
py=.venv/bin/python
gapi=$($py -c 'import google.api.annotations_pb2 as a, os; print(os.path.dirname(os.path.dirname(os.path.dirname(a.__file__))))')
out=tests/gateway/gen
find "$out/beez" -name '*_pb2*.py*' -delete
# mypy-protobuf writes the typed stubs (*_pb2.pyi, *_pb2_grpc.pyi).
$py -m grpc_tools.protoc -Itests/gateway/protos -I"$gapi" \
  --plugin=protoc-gen-mypy=.venv/bin/protoc-gen-mypy --plugin=protoc-gen-mypy_grpc=.venv/bin/protoc-gen-mypy_grpc \
  --python_out="$out" --mypy_out="$out" --grpc_python_out="$out" --mypy_grpc_out="$out" --mypy_grpc_opt=only_async \
  tests/gateway/protos/beez/testing/v1/echo.proto
