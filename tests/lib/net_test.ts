import assert from "node:assert/strict";
import { formatAddr } from "../../lib/ip.ts";
import { answer, sameAddress } from "../../lib/net.ts";

const REPLY = "Bonjour client, j'ai bien reçu ton message : ";
const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("answer() is the sentence, the request's own bytes stripped, and its newline", () => {
  assert.deepEqual(answer(REPLY, bytes("  salut \r\n")), bytes(`${REPLY}salut\n`));
  assert.deepEqual(answer(REPLY, bytes("salut")), bytes(`${REPLY}salut`));
  const bad = new Uint8Array([0xff, 0xfe]);
  const reply = answer(REPLY, bad);
  assert.equal(reply.length, bytes(REPLY).length + 2, "bad bytes are not re-encoded");
  assert.deepEqual(reply.subarray(-2), bad);
});

Deno.test("formatAddr() and sameAddress() see an IPv4-mapped address as the IPv4 one", () => {
  const mapped: Deno.NetAddr = { transport: "udp", hostname: "::ffff:127.0.0.1", port: 5000 };
  const plain: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: 5000 };
  assert.equal(formatAddr(mapped), "127.0.0.1:5000");
  assert.equal(formatAddr({ transport: "tcp", hostname: "::1", port: 80 }), "[::1]:80");
  assert.ok(sameAddress(mapped, plain));
  assert.ok(!sameAddress(plain, { ...plain, port: 5001 }));
});
