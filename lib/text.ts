/**
 * text.ts -- received bytes as text that is safe to print.
 *
 * A leaf module: it imports nothing.
 *
 * @module
 */

/**
 * Control characters, but tab and "\n": C0, DEL and C1 (a terminal may obey
 * them). "\n" is found apart: lines are split on it before.
 */
// deno-lint-ignore no-control-regex -- finding control characters is the point
export const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
// deno-lint-ignore no-control-regex -- the same, "\n" included
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/** How a control character is shown. */
function shown(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  const code = c.charCodeAt(0);
  return code < 0x80
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Shows control characters visibly, as `cat -v` does: "\r", "\n", "\x1b".
 * Received text may hold any byte: printed raw, a "\r" would let a peer
 * overwrite the start of its line on a terminal, a "\n" would forge a line
 * that seems to come from someone else, and ESC sequences would change
 * colours or the terminal's title.
 */
export function visible(text: string): string {
  CONTROLS.lastIndex = 0;
  return CONTROLS.test(text) ? text.replace(CONTROLS, shown) : text;
}

/**
 * Whether the UTF-8 `bytes` hold a character that {@link CONTROL} matches,
 * without decoding them: C0 bytes but tab and "\n", DEL, and C1 characters
 * (the pairs C2 80 to C2 9F). Same answer as `CONTROL.test(decode(bytes))`,
 * about twice as fast: a server checks every byte it receives.
 */
export function hasControl(bytes: Uint8Array): boolean {
  let k = 0;
  const end = bytes.length;
  if (end < 64) { // a short message: a view of it as words would cost more than it saves
    for (; k < end; k++) if (isControlAt(bytes, k)) return true;
    return false;
  }
  // Four bytes at a time, once aligned: a word with no byte below 0x20 and none
  // from 0x7f up (the usual case: plain ASCII text) needs no closer look.
  const head = Math.min(end, (4 - (bytes.byteOffset & 3)) & 3);
  for (; k < head; k++) if (isControlAt(bytes, k)) return true;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + k, (end - k) >> 2);
  for (let w = 0; w < words.length; w++) {
    const x = words[w];
    if ((((x - 0x20202020) & ~x) | (x + 0x01010101) | x) & 0x80808080) {
      const at = k + 4 * w;
      if (
        isControlAt(bytes, at) || isControlAt(bytes, at + 1) || isControlAt(bytes, at + 2) ||
        isControlAt(bytes, at + 3)
      ) return true;
    }
  }
  for (k += words.length * 4; k < end; k++) if (isControlAt(bytes, k)) return true;
  return false;
}

/** Whether bytes[k] starts a control character (see {@link hasControl}). */
function isControlAt(bytes: Uint8Array, k: number): boolean {
  const c = bytes[k];
  if (c < 0x20) return c !== 0x09 && c !== 0x0a;
  if (c === 0x7f) return true;
  return c === 0xc2 && k + 1 < bytes.length && bytes[k + 1] >= 0x80 && bytes[k + 1] <= 0x9f;
}

const decoder = new TextDecoder(); // not fatal: bytes that are not UTF-8 become U+FFFD "�"

/**
 * A datagram's text as the course prints it: UTF-8 decoded (bad bytes become
 * "�"), stripped of surrounding white space as Python's `strip()`, control
 * characters shown visibly. One datagram is one line.
 */
export function textOf(bytes: Uint8Array): string {
  return visible(decoder.decode(bytes).trim());
}
