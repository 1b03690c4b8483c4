#!/usr/bin/env bash
# Regenerate the TypeScript for our .proto files (needs Debian's protobuf-compiler for `protoc`), then make
# their 64-bit fields JS numbers. The generated files are committed.
set -euo pipefail
cd "$(dirname "$0")/.."

generate() { # <proto name> <output folder>
  protoc --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es --es_out="$2" \
    --es_opt=target=ts,import_extension=js --proto_path=proto "proto/$1.proto"
}

generate client src/protocol/gen
generate api src/api/gen
generate api_v2 src/api/gen
generate proxy src/proxy/gen
npx tsx src/protocol/gen-jsnumber.ts src/protocol/gen/client_pb.ts src/api/gen/api_pb.ts src/proxy/gen/proxy_pb.ts
