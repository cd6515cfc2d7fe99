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

const decoder = new TextDecoder(); // not fatal: bytes that are not UTF-8 become U+FFFD "�"

/**
 * A datagram's text as the course prints it: UTF-8 decoded (bad bytes become
 * "�"), stripped of surrounding white space as Python's `strip()`, control
 * characters shown visibly. One datagram is one line.
 */
export function textOf(bytes: Uint8Array): string {
  return visible(decoder.decode(bytes).trim());
}
