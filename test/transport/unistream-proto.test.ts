/**
 * proto/unistream.proto must stay wire-identical to what the server sends: the uni_grpc service decodes its
 * ConnectRequest and encodes its Pushes with the client protocol (proto/client.proto), so every field of every
 * unistream message must have the same number, name and type in the client protocol's message of that name.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadSync, type MessageTypeDefinition } from "@grpc/proto-loader";

interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  label: string;
  typeName: string;
}

const proto = (name: string) => fileURLToPath(new URL(`../../proto/${name}.proto`, import.meta.url));

function messages(file: string, pkg: string): Map<string, FieldDescriptor[]> {
  const definition = loadSync(proto(file), { keepCase: true });
  const out = new Map<string, FieldDescriptor[]>();
  for (const [name, value] of Object.entries(definition)) {
    const type = (value as MessageTypeDefinition).type as { field?: FieldDescriptor[] } | undefined;
    if (name.startsWith(`${pkg}.`) && type?.field !== undefined)
      out.set(name.slice(pkg.length + 1), type.field);
  }
  return out;
}

test("every unistream message matches the client protocol's fields by number, name and type", () => {
  const uni = messages("unistream", "centrifugal.centrifugo.unistream");
  const client = messages("client", "centrifugal.centrifuge.protocol");
  assert.ok(uni.size >= 14, `unistream messages: ${[...uni.keys()]}`);
  for (const [message, fields] of uni) {
    const counterpart = client.get(message);
    assert.ok(counterpart !== undefined, `client.proto has no ${message}`);
    for (const field of fields) {
      const same: FieldDescriptor | undefined = counterpart.find((f) => f.number === field.number);
      assert.ok(same !== undefined, `${message}.${field.name} (${field.number}) is not in client.proto`);
      const strip = (typeName: string) => typeName.split(".").at(-1);
      assert.deepEqual(
        [same.name, same.type, same.label, strip(same.typeName)],
        [field.name, field.type, field.label, strip(field.typeName)],
        `${message}.${field.name}`,
      );
    }
  }
});
