/**
 * ip.ts -- addresses and sizes as IP has them: how the programs write an
 * address (`127.0.0.1:8888`, `[::1]:8888`), and the largest datagram.
 *
 * A leaf module: it imports nothing, so that a one-shot client can name its
 * server without loading the rest of lib/net.ts.
 *
 * @module
 */

/**
 * The largest UDP payload: a datagram fits in one IP packet of at most 65,535
 * bytes, less 20 bytes of IPv4 header and 8 of UDP header. IPv6 allows 20
 * more; this one limit holds for both.
 */
export const MAX_DATAGRAM = 65507;

/** `host:port` as Deno's permissions and `nc` write it, with IPv6 in brackets: `[::1]:8888`. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The form of an IP address that compares: IPv4-mapped IPv6 addresses as plain IPv4. */
export function plainIp(hostname: string): string {
  // Only an address with both ":" and "." can be one: the others skip the regular
  // expression, whose first use costs a program about half a millisecond.
  if (!hostname.includes(".") || !hostname.includes(":")) return hostname;
  return hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
}

/**
 * Formats a network address as `ip:port`, with IPv6 in brackets: `[::1]:5000`.
 * An IPv4 client of a server on `::` shows as `::ffff:127.0.0.1`: it is shown
 * as the IPv4 address it is.
 */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return String(addr.transport);
  const ip = plainIp(addr.hostname);
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return `${host}:${addr.port}`;
}
