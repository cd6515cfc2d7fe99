#!/usr/bin/python3
"""peers.py -- the Python peers of the benchmarks: the servers we compare with.

Servers (each prints its ready line, as ours do; PORT 0 lets the kernel pick a free port, which
bench.ts reads in /proc). The load comes from bench/loadgen.c.
    workshop-tcp-server PORT    the workshop's way: blocking socket, recv(1024), one print per read
    careful-tcp-server PORT     lines split across reads, one print per line
    workshop-ex1-server PORT    exercise 1 the workshop's way: recv(1024), strip, one send per read
    asyncio-ex1-server PORT     exercise 1 with asyncio: many clients, lines, one reply per line
    workshop-udp-server PORT    recvfrom(1024), one print per datagram

The workshop's own clients, for start-up times, are workshop_udp_client.py and
workshop_tcp_client.py.
"""
import asyncio
import socket
import sys

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


def main(args):
    mode = args[0]
    modes = {
        "workshop-tcp-server": workshop_tcp_server,
        "careful-tcp-server": careful_tcp_server,
        "workshop-ex1-server": workshop_ex1_server,
        "asyncio-ex1-server": lambda port: asyncio.run(asyncio_ex1_server(port)),
        "workshop-udp-server": workshop_udp_server,
    }
    if mode not in modes:
        sys.exit(f"unknown mode {mode}")
    modes[mode](*[int(a) for a in args[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
