"""A tiny DNS server on 127.0.0.1 (UDP) for the interop tests: it answers
SRV and A queries from a fixed table and NXDOMAIN for every other name, so
that a peer whose resolver reads no config table (ejabberd's inet_res) finds
Tern on loopback without touching the system's DNS."""

import socket
import struct
import threading

T_A, T_SRV = 1, 33


def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def _read_name(packet, offset):
    labels = []
    while packet[offset]:
        n = packet[offset]
        labels.append(packet[offset + 1:offset + 1 + n].decode(errors="replace"))
        offset += 1 + n
    return ".".join(labels).lower(), offset + 1


class FakeDns(threading.Thread):
    """records: {("tern.example", "A"): "127.0.0.1",
                 ("_xmpp-server._tcp.tern.example", "SRV"): ("tern.example", port)}"""

    def __init__(self, records):
        super().__init__(daemon=True)
        self.records = {(k[0].lower(), k[1]): v for k, v in records.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = []

    def run(self):
        while True:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.sock.sendto(self.answer(packet), peer)
            except Exception:  # noqa: BLE001 — a malformed query gets no answer
                continue

    def answer(self, packet):
        qid = struct.unpack(">H", packet[:2])[0]
        name, end = _read_name(packet, 12)
        qtype = struct.unpack(">H", packet[end:end + 2])[0]
        question = packet[12:end + 4]
        self.queries.append((name, qtype))
        answers = []
        if qtype == T_A and (name, "A") in self.records:
            rdata = socket.inet_aton(self.records[(name, "A")])
            answers.append(struct.pack(">HHHIH", 0xC00C, T_A, 1, 60, len(rdata)) + rdata)
        elif qtype == T_SRV and (name, "SRV") in self.records:
            target, port = self.records[(name, "SRV")]
            rdata = struct.pack(">HHH", 0, 0, port) + _encode_name(target)
            answers.append(struct.pack(">HHHIH", 0xC00C, T_SRV, 1, 60, len(rdata)) + rdata)
        known = any(k[0] == name for k in self.records)
        rcode = 0 if answers or known else 3  # NXDOMAIN
        # QR, AA, RD and RA set.
        header = struct.pack(">HHHHHH", qid, 0x8580 | rcode, 1, len(answers), 0, 0)
        return header + question + b"".join(answers)

    def close(self):
        self.sock.close()
