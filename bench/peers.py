#!/usr/bin/python3
"""peers.py -- the Python side of the benchmarks: the peers we compare with, and the load.

Servers (each prints its ready line, as ours do, so the driver knows the port):
    workshop-tcp-server PORT    the workshop's way: blocking socket, recv(1024), one print per read
    careful-tcp-server PORT     lines split across reads, one print per line
    workshop-ex1-server PORT    exercise 1 the workshop's way: recv(1024), strip, one send per read
    asyncio-ex1-server PORT     exercise 1 with asyncio: many clients, lines, one reply per line
    workshop-udp-server PORT    recvfrom(1024), one print per datagram

Load (each prints one JSON line of measurements):
    send-lines PORT BYTES       100-byte lines as fast as possible, then waits for the server to close
    round-trips PORT N          N sequential request-reply round trips, one client
    many-clients PORT C N       C clients at once, N round trips each (asyncio)
    idle-clients PORT C         opens C connections, prints "open", holds them until stdin closes
    udp-burst PORT N [RATE [LETTER]]  N datagrams of 64 bytes ("mmm...\\n", or LETTER), at RATE
                                per second (default 0: no pacing)

Workshop clients, for start-up times:
    workshop-udp-client PORT    one datagram, "Salut !\\n"
    workshop-tcp-client PORT    connect, send "abcdefg!\\n", close
"""
import asyncio
import json
import socket
import sys
import time

REPLY = "Bonjour client, j'ai bien reçu ton message : "


def ready(kind, port):
    print(f"{kind} en attente sur le port {port}...", flush=True)


def listening(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1024)
    return srv


# --- servers ---------------------------------------------------------------

def workshop_tcp_server(port):
    srv = listening(port)
    ready("Serveur TCP", srv.getsockname()[1])
    conn, addr = srv.accept()
    print("Client connecté :", addr)
    while True:
        data = conn.recv(1024)
        if not data:
            break
        print("Reçu :", data.decode(errors="replace").strip())
    print("Déconnecté")
    conn.close()


def careful_tcp_server(port):
    srv = listening(port)
    ready("Serveur TCP", srv.getsockname()[1])
    conn, addr = srv.accept()
    print("Client connecté :", addr)
    for line in conn.makefile("rb"):
        print("Reçu :", line.decode(errors="replace").rstrip("\r\n"))
    print("Déconnecté")
    conn.close()


def workshop_ex1_server(port):
    srv = listening(port)
    ready("Serveur TCP", srv.getsockname()[1])
    conn, addr = srv.accept()
    print("Client connecté :", addr)
    while True:
        data = conn.recv(1024)
        msg = data.decode(errors="replace").strip()
        if not data or msg == "quit":
            break
        print("Reçu :", msg)
        conn.send((REPLY + msg).encode())
    print("Fin de la conversation")
    conn.close()


async def asyncio_ex1_server(port):
    async def converse(reader, writer):
        while True:
            line = await reader.readline()
            if not line:
                break
            msg = line.decode(errors="replace").rstrip("\r\n")
            if msg.strip() == "quit":
                break
            print("Reçu :", msg)
            writer.write((REPLY + msg + "\n").encode())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(converse, "127.0.0.1", port, backlog=2048)
    ready("Serveur TCP", server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def workshop_udp_server(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    ready("Serveur UDP", sock.getsockname()[1])
    try:
        while True:
            data, addr = sock.recvfrom(1024)
            print("Message reçu:", data.decode(errors="replace").strip())
    except KeyboardInterrupt:
        print("Fin du programme")


# --- load --------------------------------------------------------------------

def connect(port):
    """Connects, retrying while the server is still starting (its stdout is /dev/null)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def send_lines(port, total):
    block = (b"x" * 99 + b"\n") * 10486  # about 1 MiB of 100-byte lines
    sock = connect(port)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        sock.sendall(block)
        sent += len(block)
    sock.shutdown(socket.SHUT_WR)
    while sock.recv(65536):  # the server closes once it has printed everything
        pass
    seconds = time.perf_counter() - start
    print(json.dumps({"bytes": sent, "seconds": seconds}))


def round_trips(port, count):
    sock = connect(port)
    start = time.perf_counter()
    for i in range(count):
        msg = f"message {i}"
        sock.sendall((msg + "\n").encode())
        want = len((REPLY + msg).encode())
        got = 0
        while got < want:  # the reply may come in pieces, with or without "\n"
            chunk = sock.recv(4096)
            if not chunk:
                raise SystemExit("server closed")
            got += len(chunk)
    seconds = time.perf_counter() - start
    sock.sendall(b"quit\n")
    sock.close()
    print(json.dumps({"round_trips": count, "seconds": seconds}))


async def many_clients(port, clients, count):
    latencies = []
    errors = 0

    async def one(i):
        nonlocal errors
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for j in range(count):
                msg = f"client {i} message {j}"
                t = time.perf_counter()
                writer.write((msg + "\n").encode())
                line = await reader.readline()
                if line.decode().rstrip("\n") != REPLY + msg:
                    errors += 1
                if j > 0:  # the first round trip also pays for the connection
                    latencies.append(time.perf_counter() - t)
            writer.write(b"quit\n")
            writer.close()
        except Exception:
            errors += 1

    connect(port).close()  # wait until the server listens (a -k server takes this one too)
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    seconds = time.perf_counter() - start
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0
    print(json.dumps({"seconds": seconds, "p99": p99, "errors": errors}))


def idle_clients(port, count):
    socks = [connect(port) for _ in range(count)]
    print("open", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


def udp_burst(port, count, rate, letter="m"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = letter.encode() * 63 + b"\n"
    start = time.perf_counter()
    for i in range(count):
        if rate:
            due = start + i / rate
            while time.perf_counter() < due:
                pass
        sock.sendto(payload, ("127.0.0.1", port))
    print(json.dumps({"sent": count, "seconds": time.perf_counter() - start}))


def workshop_udp_client(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto("Salut !\n".encode(), ("127.0.0.1", port))
    sock.close()


def workshop_tcp_client(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.connect(("127.0.0.1", port))
    sock.send("abcdefg!\n".encode())
    sock.close()


def main(args):
    mode = args[0]
    if mode == "udp-burst":
        port, count = int(args[1]), int(args[2])
        rate = int(args[3]) if len(args) > 3 else 0
        return udp_burst(port, count, rate, args[4] if len(args) > 4 else "m")
    modes = {
        "workshop-tcp-server": workshop_tcp_server,
        "careful-tcp-server": careful_tcp_server,
        "workshop-ex1-server": workshop_ex1_server,
        "asyncio-ex1-server": lambda port: asyncio.run(asyncio_ex1_server(port)),
        "workshop-udp-server": workshop_udp_server,
        "send-lines": send_lines,
        "round-trips": round_trips,
        "many-clients": lambda *a: asyncio.run(many_clients(*a)),
        "idle-clients": idle_clients,
        "workshop-udp-client": workshop_udp_client,
        "workshop-tcp-client": workshop_tcp_client,
    }
    if mode not in modes:
        sys.exit(f"unknown mode {mode}")
    modes[mode](*[int(a) for a in args[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
