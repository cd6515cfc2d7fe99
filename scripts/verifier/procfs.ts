/**
 * procfs.ts -- what Linux's /proc says about the student's program: the bytes
 * a socket has received but the program has not read yet, the processes of a
 * group, and the ports they have bound. Elsewhere (macOS, Windows) every
 * function answers null, "unknown", and the verifier does without.
 *
 * @module
 */

/** One socket, as a line of /proc/net/{tcp,tcp6,udp,udp6} shows it. */
interface SocketRow {
  localIp: string;
  localPort: number;
  remotePort: number;
  /** The kernel's TCP state: 0x01 established, 0x0A listening (UDP: 0x07). */
  state: number;
  /** Bytes received and not yet read by the program. */
  unread: number;
  inode: number;
}

const TCP_ESTABLISHED = 0x01;
const TCP_LISTEN = 0x0a;

/** An address of /proc/net, in hex, as text ("0100007F" is 127.0.0.1 on a little-endian machine). */
function parseIp(hex: string): string {
  // Each 32-bit word is printed in the machine's byte order (little-endian on x86 and ARM).
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(hex.slice(word + i, word + i + 2), 16));
  }
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12).join("."); // an IPv4 address seen by an IPv6 socket
  }
  if (bytes.every((b) => b === 0)) return "::";
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return "::1";
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(":");
}

/** One line of a /proc/net table as a row, or null for the header and blank lines. */
function parseRow(line: string): SocketRow | null {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 10 || fields[0] === "sl") return null;
  const [localIp, localPort] = fields[1].split(":");
  const [, remotePort] = fields[2].split(":");
  return {
    localIp: parseIp(localIp),
    localPort: parseInt(localPort, 16),
    remotePort: parseInt(remotePort, 16),
    state: parseInt(fields[3], 16),
    unread: parseInt(fields[4].split(":")[1], 16),
    inode: Number(fields[9]),
  };
}

/** The sockets of one /proc/net table, or null if it cannot be read. */
async function readTable(name: string): Promise<SocketRow[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`/proc/net/${name}`);
  } catch {
    return null;
  }
  const rows: SocketRow[] = [];
  for (const line of text.split("\n").slice(1)) {
    const row = parseRow(line);
    if (row !== null) rows.push(row);
  }
  return rows;
}

/** The rows of both tables of a transport (IPv4 and IPv6), or null where /proc is missing. */
async function readTables(transport: "tcp" | "udp"): Promise<SocketRow[] | null> {
  const v4 = await readTable(transport);
  if (v4 === null) return null;
  return [...v4, ...(await readTable(`${transport}6`) ?? [])];
}

/**
 * How many bytes the TCP socket `localPort` -> `remotePort` on this machine
 * has received and its program has not read yet (0 once the socket is gone);
 * null where /proc cannot be read.
 *
 * Asked again and again while a message is sent in two pieces, so it must be
 * quick on a busy machine too: the tables are read synchronously (an
 * asynchronous read waits for a thread of the runtime's pool to be scheduled)
 * and only the line of that socket is parsed.
 */
export function unreadBytes(localPort: number, remotePort: number): Promise<number | null> {
  // A port as the tables write it, to pass over the other lines without parsing them.
  const port = (n: number) => `:${n.toString(16).toUpperCase().padStart(4, "0")}`;
  const local = port(localPort);
  const remote = port(remotePort);
  for (const name of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/net/${name}`);
    } catch {
      if (name === "tcp") return Promise.resolve(null);
      continue; // no IPv6 on this machine
    }
    for (const line of text.split("\n")) {
      if (!line.includes(local) || !line.includes(remote)) continue; // cheap first look
      const row = parseRow(line);
      if (
        row?.state === TCP_ESTABLISHED && row.localPort === localPort &&
        row.remotePort === remotePort
      ) return Promise.resolve(row.unread);
    }
  }
  return Promise.resolve(0);
}

/** The living (not zombie) processes of process group `pgid`, or null if unknown. */
export async function groupMembers(pgid: number): Promise<number[] | null> {
  const members: number[] = [];
  try {
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      let stat: string;
      try {
        stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
      } catch {
        continue; // the process ended meanwhile
      }
      // "pid (name) state ppid pgrp ...": the name may hold spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(Number(entry.name));
    }
  } catch {
    return null;
  }
  return members;
}

/** An address and port that a program has bound. */
export interface Bound {
  ip: string;
  port: number;
}

/**
 * The addresses the processes of group `pgid` listen on (TCP) or have bound
 * (UDP); null if unknown.
 */
export async function boundAddresses(
  pgid: number,
  transport: "tcp" | "udp",
): Promise<Bound[] | null> {
  const pids = await groupMembers(pgid);
  if (pids === null) return null;
  const inodes = new Set<number>();
  for (const pid of pids) {
    try {
      for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
        const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
        const match = target.match(/^socket:\[(\d+)\]$/);
        if (match) inodes.add(Number(match[1]));
      }
    } catch {
      continue; // gone, or not ours to read
    }
  }
  const rows = await readTables(transport);
  if (rows === null) return null;
  return rows
    .filter((r) => inodes.has(r.inode) && (transport === "udp" || r.state === TCP_LISTEN))
    .map((r) => ({ ip: r.localIp, port: r.localPort }));
}
