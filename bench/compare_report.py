#!/usr/bin/python3
"""The report of bench/compare.sh: RAW_DIR (tern-bench's JSON lines and CPU
snapshots, SERVER-LABEL.json/.cpu) -> OUT_DIR/DATE.md, .json and .png, and
the headline table (issue 4's targets) on stdout.

    /usr/bin/python3 bench/compare_report.py RAW_DIR OUT_DIR DATE "tern prosody ejabberd"

It can be run again on a kept RAW_DIR (compare.sh --keep).
"""

import glob
import json
import os
import re
import subprocess
import sys

ALL = ["tern", "prosody", "ejabberd"]
NAMES = {"tern": "Tern", "prosody": "Prosody", "ejabberd": "ejabberd"}
LABELS = ["hold-plain", "hold-tls", "login", "chat", "chat-rate", "chat-rate-1of8", "chat-rate-1of4",
          "presence", "chat-shards1", "chat-shards2", "chat-shards1-paced", "chat-shards2-paced"]


# ------------------------------------------------------------------ loading
def run_labels(raw, s):
    """The runs of server s in RAW: the fixed ones, then those named by their
    parameters (chat-light-200, muc-1x500, scale-shards4, ...)."""
    found = [os.path.basename(p)[len(s) + 1:-len(".json")] for p in glob.glob(os.path.join(raw, f"{s}-*.json"))]
    return LABELS + sorted(l for l in found if l not in LABELS)


def load(raw):
    meta = json.load(open(os.path.join(raw, "meta.json")))
    results = {}
    for s in ALL:
        for label in run_labels(raw, s):
            p = os.path.join(raw, f"{s}-{label}.json")
            if not os.path.exists(p):
                continue
            r = results.setdefault(s, {})[label] = json.load(open(p))
            add_cpu_split(r, os.path.join(raw, f"{s}-{label}.cpu"), meta["machine"]["clk_tck"])
            pin = os.path.join(raw, f"{s}-{label}.pin")
            if os.path.exists(pin):
                r["pinned_server"], r["pinned_generator"] = open(pin).read().rstrip("\n").split("\t")
            archived = os.path.join(raw, f"{s}-{label}.archived")
            if os.path.exists(archived):  # --features mam runs: the archive counted on disk
                text = open(archived).read().strip()
                r["archived"] = int(text) if text.isdigit() else None
        if s not in results:
            continue
        extra = results[s]
        for name, key in (("loadavg", "loadavg_before"), ("nofile", "open_files_limit")):
            p = os.path.join(raw, f"{s}.{name}")
            if os.path.exists(p):
                extra[key] = open(p).read().split()
        for mode in ("plain", "tls"):
            p = os.path.join(raw, f"{s}-{mode}.status")
            if os.path.exists(p):
                for line in open(p):
                    k, v = line.split(":", 1)
                    extra.setdefault(f"server_{mode}", {})[k.strip().lower() + "_kib"] = int(v.split()[0])
    skipped = dict(line.rstrip("\n").split("\t", 1) for line in read_lines(raw, "skipped.tsv"))
    timings = {}
    for line in read_lines(raw, "timings.tsv"):
        s, stage, secs = line.rstrip("\n").split("\t")
        timings.setdefault(s, {})
        timings[s][stage] = timings[s].get(stage, 0) + int(secs)
    return meta, results, skipped, timings


def read_lines(raw, name):
    p = os.path.join(raw, name)
    return [l for l in open(p) if l.strip()] if os.path.exists(p) else []


def add_cpu_split(r, path, tck):
    """Where the machine's CPU went while tern-bench ran (start to exit)."""
    if not os.path.exists(path):
        return
    b_busy, b_srv, b_ns, a_busy, a_srv, a_ns = map(int, open(path).read().split())
    wall = (a_ns - b_ns) / 1e9
    busy = (a_busy - b_busy) / tck / wall
    srv = (a_srv - b_srv) / tck / wall
    gen = r.get("generator_cpu_seconds", 0) / wall
    r.update(run_wall_seconds=wall, run_machine_busy_cores=busy, run_server_cores=srv,
             run_generator_cores=gen, run_other_cores=max(0.0, busy - srv - gen))


# ------------------------------------------------------------------ figures
class Figures:
    """Accessors over one run's results; None where a figure is missing."""

    def __init__(self, results, meta):
        self.r, self.meta = results, meta
        self.top = meta["parameters"]["sizes"][-1]

    def get(self, s, label, key):
        return self.r.get(s, {}).get(label, {}).get(key)

    def checkpoint(self, s, mode, n, key):
        for cp in self.get(s, "hold-" + mode, "checkpoints") or []:
            if cp.get("sessions") == n:
                return cp.get(key)
        return None

    def kib(self, s, mode, n=None):
        return self.checkpoint(s, mode, n or self.top, "server_kib_per_session")

    def ms(self, s, label, key):
        return div(self.get(s, label, key), 1000)

    def cores(self, s, label):
        """Server cores busy in the measured window (chat, presence)."""
        return div(self.get(s, label, "server_cpu_window_seconds"), self.get(s, label, "duration_seconds"))

    def per_cpu_second(self, s, label):
        """Messages per second of server CPU: throughput / cores used."""
        return div(1e6, self.get(s, label, "server_cpu_us_per_message"))

    def sustained(self, s):
        """chat-rate: (offered, delivered, True if the server kept up)."""
        offered = self.get(s, "chat-rate", "offered_rate")
        got = self.get(s, "chat-rate", "delivered_per_second")
        if offered is None or got is None:
            return offered, got, None
        return offered, got, got >= 0.95 * offered and not self.get(s, "chat-rate", "lost")

    def half_load(self):
        """The offered rate of the chat-rate runs (the same for every server)."""
        return next((self.get(s, "chat-rate", "offered_rate") for s in ALL
                     if self.get(s, "chat-rate", "offered_rate") is not None), None)

    def shard_ratio(self, key_fn):
        return div(key_fn("chat-shards2"), key_fn("chat-shards1"))


def div(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


def fmt(v, f="{:.1f}"):
    if v is None:
        return "–"
    return v if isinstance(v, str) else f.format(v)


def ratio(a, b):
    r = div(a, b) if isinstance(a, (int, float)) else None
    return "–" if r is None else f"{r:.2f}"


CORES = "server / generator / other processes' CPU over the run (cores)"


# ------------------------------------------------------------------ tables
# A row: (label, fn(server) -> value, format, better); better True or False
# says whether more or less is better (the ratio columns), None: no ratios.
def of(F, run, key, scale=1):
    return lambda s: div(F.get(s, run, key), scale)


def slash(F, run, *keys):
    """"a / b / c" of several counts."""
    def f(s):
        vals = [F.get(s, run, k) for k in keys]
        return None if vals[0] is None else " / ".join(str(v) for v in vals)
    return f


def split_cores(F, run):
    """Where the machine's CPU went during the run: server / generator / other."""
    def f(s):
        vals = [F.get(s, run, k) for k in ("run_server_cores", "run_generator_cores", "run_other_cores")]
        return None if vals[0] is None else " / ".join(f"{v:.2f}" for v in vals)
    return f


def bold(text, yes=True):
    return f"**{text}**" if yes else text


def hold_table(F, mode, title):
    p, run = F.meta["parameters"], "hold-" + mode
    rows = [(bold(f"server KiB per session at {n:,}", n == F.top), lambda s, n=n: F.kib(s, mode, n),
             "{:.2f}", False) for n in p["sizes"]]
    rows += [(f"server RSS at {n:,} (MiB)", lambda s, n=n: div(F.checkpoint(s, mode, n, "server_rss_kib"), 1024),
              "{:.1f}", False) for n in p["sizes"]]
    rows += [
        ("server RSS before any session (MiB)", of(F, run, "server_rss_before_kib", 1024), "{:.1f}", False),
        ("sessions online / failed / dropped", slash(F, run, "online", "failed", "dropped"), "{}", None),
        ("time to connect all, settling excluded (s)", of(F, run, "connect_seconds"), "{:.1f}", False),
        ("logins/s while ramping (50 in flight)", of(F, run, "connect_rate"), "{:.0f}", True),
        ("login latency p99 while ramping (ms)", of(F, run, "login_p99_us", 1000), "{:.1f}", False),
        ("server CPU while connecting (s)", of(F, run, "server_cpu_connect_seconds"), "{:.1f}", False),
        ("generator CPU while connecting (s)", of(F, run, "cpu_connect_seconds"), "{:.1f}", None),
        (CORES, split_cores(F, run), "{}", None),
    ]
    sizes = ", ".join(f"{n:,}" for n in p["sizes"])
    text = (f"One ramp of idle sessions over {title} on a fresh server process: at each checkpoint ({sizes}) "
            f"the ramp pauses {p['settle_seconds']} s and the server's VmRSS is read; KiB per session = "
            "(RSS then − RSS before the first connection) / sessions online. Each session: SASL "
            f"{p['mech']}, bind, roster get, initial presence. Held {p['hold_seconds']} s after the last "
            "checkpoint.")
    return f"idle sessions, {title}", text, rows


def login_table(F):
    p = F.meta["parameters"]
    return "login", (f"{p['login_concurrency']} loops of connect, STARTTLS, SASL, bind, close, for "
                     f"{p['login_seconds']} s; then the same with TLS 1.3 session resumption offered "
                     "(tern-bench --tls-resume: each loop's next login offers the ticket of its last one). "
                     "`tls_resumed` counts the handshakes the server actually resumed; a server that "
                     "issues no tickets, or ignores them, does full handshakes in both runs."), [
        ("**logins/s**", of(F, "login", "logins_per_second"), "{:.0f}", True),
        ("logins completed / failed", slash(F, "login", "logins", "failed"), "{}", None),
        ("login latency p50 (ms)", of(F, "login", "login_p50_us", 1000), "{:.2f}", False),
        ("login latency p99 (ms)", of(F, "login", "login_p99_us", 1000), "{:.2f}", False),
        ("server CPU per login (µs)", of(F, "login", "server_cpu_us_per_login"), "{:.0f}", False),
        ("generator CPU (% of one core)", of(F, "login", "generator_cpu_percent"), "{:.0f}", None),
        (CORES, split_cores(F, "login"), "{}", None),
        ("**logins/s, TLS resumption offered**", of(F, "login-resume", "logins_per_second"), "{:.0f}", True),
        ("TLS sessions resumed / logins", slash(F, "login-resume", "tls_resumed", "logins"), "{}", None),
        ("resumed? (the server took the ticket)", lambda s: resumed(F, s, "login-resume"), "{}", None),
        ("login latency p50, resumption offered (ms)", of(F, "login-resume", "login_p50_us", 1000), "{:.2f}", False),
        ("login latency p99, resumption offered (ms)", of(F, "login-resume", "login_p99_us", 1000), "{:.2f}", False),
        ("server CPU per login, resumption offered (µs)", of(F, "login-resume", "server_cpu_us_per_login"),
         "{:.0f}", False),
        ("failed, resumption offered", of(F, "login-resume", "failed"), "{:.0f}", None),
    ]


def latency_rows(F, run, bold_p99=False):
    rows = [(bold(f"latency {q} (ms)", bold_p99 and q == "p99"), of(F, run, f"latency_{q}_us", 1000),
             "{:.2f}", False) for q in ("p50", "p90", "p99", "max")]
    return rows + [("lost / error replies", slash(F, run, "lost", "errors"), "{}", None)]


def chat_table(F):
    p = F.meta["parameters"]
    rows = [("**messages/s delivered**", of(F, "chat", "delivered_per_second"), "{:.0f}", True)]
    rows += latency_rows(F, "chat") + [
        ("**server CPU per message (µs)**", of(F, "chat", "server_cpu_us_per_message"), "{:.1f}", False),
        ("server CPU per 100,000 messages (s)", of(F, "chat", "server_cpu_us_per_message", 10), "{:.2f}", False),
        ("messages per server-CPU-second", lambda s: F.per_cpu_second(s, "chat"), "{:.0f}", True),
        ("server cores busy", lambda s: F.cores(s, "chat"), "{:.2f}", None),
        ("generator CPU per message (µs)", of(F, "chat", "cpu_us_per_message"), "{:.1f}", None),
        ("generator CPU (% of one core)", of(F, "chat", "generator_cpu_percent"), "{:.0f}", None),
        (CORES, split_cores(F, "chat"), "{}", None),
    ]
    return "chat at saturation", (f"{p['pairs']} pairs, one-to-one messages to full JIDs, 10 in flight per "
                                  f"sender, for {p['chat_seconds']} s, STARTTLS."), rows


def chat_rate_table(F):
    p = F.meta["parameters"]
    why = "given with --chat-rate" if p.get("chat_rate_given") else "half of what Tern delivered at saturation"
    text = (f"The same {p['pairs']} pairs, paced at a fixed offered load of {fmt(F.half_load(), '{:.0f}')} "
            f"msgs/s in all ({why}), for {p['chat_seconds']} s. A server that cannot sustain it shows what it "
            "delivered, with the latency it had.")
    rows = [
        ("offered (msgs/s)", of(F, "chat-rate", "offered_rate"), "{:.0f}", None),
        ("delivered (msgs/s)", of(F, "chat-rate", "delivered_per_second"), "{:.0f}", True),
        ("kept up?", lambda s: kept_up(F, s), "{}", None),
    ] + latency_rows(F, "chat-rate", bold_p99=True) + [
        ("server CPU per message (µs)", of(F, "chat-rate", "server_cpu_us_per_message"), "{:.1f}", False),
        ("server cores busy", lambda s: F.cores(s, "chat-rate"), "{:.2f}", None),
        ("generator CPU (% of one core)", of(F, "chat-rate", "generator_cpu_percent"), "{:.0f}", None),
        (CORES, split_cores(F, "chat-rate"), "{}", None),
    ]
    return "chat at half of Tern's saturation rate", text, rows


def presence_table(F):
    p, k = F.meta["parameters"], F.meta["parameters"]["contacts"]
    text = (f"{p['presence_users']:,} users (accounts of their own), each with a roster of {k} contacts with "
            f"subscription both, all online; they alternate away and available at {p['presence_rate']:,} "
            f"changes/s in all for {p['presence_seconds']} s, STARTTLS, on a fresh server process. A change "
            f"should reach {k} contacts; deliveries count the presences received from other accounts. The "
            "offered rate is meant to be more than the servers (and the machine) can deliver: below 100 % "
            "delivered, the figure is the capacity; at 100 %, only a lower bound.")

    def expected_rate(s):
        return div(F.get(s, "presence", "expected_deliveries"), F.get(s, "presence", "duration_seconds"))

    def delivered_share(s):
        share = div(F.get(s, "presence", "deliveries"), F.get(s, "presence", "expected_deliveries"))
        return None if share is None else 100 * share

    rows = [
        ("**presence deliveries/s**", of(F, "presence", "deliveries_per_second"), "{:.0f}", True),
        ("offered changes/s", of(F, "presence", "offered_rate"), "{:.0f}", None),
        ("deliveries expected for the changes sent (/s)", expected_rate, "{:.0f}", None),
        ("delivered / expected (%)", delivered_share, "{:.1f}", True),
        ("server CPU per delivery (µs)", of(F, "presence", "server_cpu_us_per_delivery"), "{:.2f}", False),
        ("server cores busy", lambda s: F.cores(s, "presence"), "{:.2f}", None),
        ("sessions online / failed / dropped", slash(F, "presence", "online", "failed", "dropped"), "{}", None),
        ("error replies", of(F, "presence", "errors"), "{:.0f}", None),
        ("generator CPU (% of one core)", of(F, "presence", "generator_cpu_percent"), "{:.0f}", None),
        (CORES, split_cores(F, "presence"), "{}", None),
    ]
    return "presence", text, rows


def resumed(F, s, run):
    n, total = F.get(s, run, "tls_resumed"), F.get(s, run, "logins") or F.get(s, run, "reconnected")
    if n is None or not total:
        return None
    return "yes" if n >= 0.9 * total else ("no" if n == 0 else f"partly ({100 * n / total:.0f} %)")


def light_table(F):
    p = F.meta["parameters"]
    rates = p.get("light_rates") or []
    if not rates:
        return None
    text = (f"{p['light_pairs']} pairs ({2 * p['light_pairs']} sessions), one-to-one messages paced at light "
            f"fixed loads ({', '.join(f'{r:,}' for r in rates)} msgs/s in all) for {p['light_seconds']} s each, "
            "STARTTLS. The generator wakes once per message due (no polling tick, no timer per pair), so its "
            "own CPU stays small. Server CPU per message is its CPU (/proc/PID/stat) over the window divided "
            "by the messages delivered: at a light load it includes whatever the server does when idle.")
    rows = []
    for r in rates:
        run = f"chat-light-{r}"
        rows += [
            (f"**{r:,} msgs/s: latency p50 (ms)**", of(F, run, "latency_p50_us", 1000), "{:.3f}", False),
            (f"**{r:,} msgs/s: latency p99 (ms)**", of(F, run, "latency_p99_us", 1000), "{:.3f}", False),
            (f"{r:,} msgs/s: latency max (ms)", of(F, run, "latency_max_us", 1000), "{:.2f}", False),
            (f"**{r:,} msgs/s: server CPU per message (µs)**", of(F, run, "server_cpu_us_per_message"),
             "{:.1f}", False),
            (f"{r:,} msgs/s: delivered (msgs/s) / lost",
             lambda s, run=run: None if F.get(s, run, "delivered_per_second") is None else
             f"{F.get(s, run, 'delivered_per_second'):,.0f} / {F.get(s, run, 'lost')}", "{}", None),
            (f"{r:,} msgs/s: generator CPU per message (µs)", of(F, run, "cpu_us_per_message"), "{:.1f}", None),
        ]
    return "chat at light loads", text, rows


def storm_table(F):
    p = F.meta["parameters"]
    if not p.get("storm_sessions"):
        return None
    text = (f"{p['storm_sessions']:,} sessions (STARTTLS, SASL {p['mech']}, bind, roster, presence) log in 50 at a "
            "time on a fresh server process and settle 2 s; then every connection is cut at once (sockets closed "
            "without a stream close or TLS close_notify, as an outage looks to the client) and every client "
            "reconnects at the same moment, with no limit on logins in flight. Time back is from the reconnect "
            "to online (bound, roster, presence) per client.")
    rows = [
        ("clients back / cut", slash(F, "storm", "reconnected", "cut"), "{}", None),
        ("reconnects failed", of(F, "storm", "reconnect_failed"), "{:.0f}", False),
        ("**time until all are back (s)**", of(F, "storm", "all_back_seconds"), "{:.2f}", False),
        ("time back per client p50 (ms)", of(F, "storm", "back_p50_us", 1000), "{:.0f}", False),
        ("time back per client p99 (ms)", of(F, "storm", "back_p99_us", 1000), "{:.0f}", False),
        ("time back per client max (ms)", of(F, "storm", "back_max_us", 1000), "{:.0f}", False),
        ("server CPU per reconnect (µs)", of(F, "storm", "server_cpu_us_per_reconnect"), "{:.0f}", False),
        ("sessions dropped by the server", of(F, "storm", "dropped"), "{:.0f}", None),
        ("Tern with TLS resumption: time until all are back (s)",
         lambda s: F.get(s, "storm-resume", "all_back_seconds") if s == "tern" else None, "{:.2f}", None),
        ("Tern with TLS resumption: p50 / p99 / max (ms)",
         lambda s: ms_triple(F, s, "storm-resume", "back") if s == "tern" else None, "{}", None),
        ("Tern with TLS resumption: resumed / back / failed",
         lambda s: slash(F, "storm-resume", "tls_resumed", "reconnected", "reconnect_failed")(s)
         if s == "tern" else None, "{}", None),
        ("Tern with TLS resumption: server CPU per reconnect (µs)",
         lambda s: F.get(s, "storm-resume", "server_cpu_us_per_reconnect") if s == "tern" else None, "{:.0f}", None),
    ]
    return "reconnect storm", text, rows


def ms_triple(F, s, run, prefix):
    vals = [F.get(s, run, f"{prefix}_{q}_us") for q in ("p50", "p99", "max")]
    return None if vals[0] is None else " / ".join(f"{v / 1000:.0f}" for v in vals)


def muc_table(F):
    p = F.meta["parameters"]
    configs = p.get("muc_rooms") or []
    if not configs:
        return None
    text = (f"XEP-0045 rooms at conference.localhost on a fresh server process: each room is created by its first "
            "occupant as an instant room (an empty muc#owner form: all three lock new rooms until configured), "
            "then the others join (history maxstanzas 0) and wait for their self-presence (status 110). The "
            f"occupants then send groupchat messages, {p['muc_deliveries']:,} deliveries/s offered in all "
            f"(messages/s = that / occupants per room), for {p['muc_seconds']} s; a delivery is a groupchat "
            "message received by an occupant, the sender's own copy included. Latency: the send time is in the body. "
            "A server that does not keep up (delivered well below expected) spent part of its CPU on messages it "
            "had not delivered by the end of the window: its CPU per delivery is then an upper bound.")
    rows = []
    for c in configs:
        run = f"muc-{c}"
        rooms, occ = c.split("x")
        title = f"{int(rooms):,} room{'s' if int(rooms) > 1 else ''} of {int(occ):,}"

        def share(s, run=run):
            d, e = F.get(s, run, "delivered_after_drain"), F.get(s, run, "expected_deliveries")
            return None if d is None or not e else 100 * d / e
        rows += [
            (f"**{title}: deliveries/s**", of(F, run, "deliveries_per_second"), "{:,.0f}", True),
            (f"{title}: messages sent/s (offered)", lambda s, run=run: sent_offered(F, s, run), "{}", None),
            (f"{title}: delivered / expected after the drain (%)", share, "{:.1f}", True),
            (f"{title}: latency p50 (ms)", of(F, run, "latency_p50_us", 1000), "{:.2f}", False),
            (f"**{title}: latency p99 (ms)**", of(F, run, "latency_p99_us", 1000), "{:.2f}", False),
            (f"**{title}: server CPU per delivery (µs)**", of(F, run, "server_cpu_us_per_delivery"), "{:.2f}", False),
            (f"{title}: joined / join errors / time to join all (s)",
             lambda s, run=run: join_cell(F, s, run), "{}", None),
        ]
    return "MUC (groupchat)", text, rows


FEATURE_WAYS = [("plain", "plain"), ("sm", "SM"), ("mam", "MAM"), ("sm-mam", "SM + MAM")]


def feature_mean(F, s, way, key):
    """The mean over the --features rounds of one way's figure."""
    vals = [F.get(s, f"feat-{way}-{r}", key) for r in range(1, F.meta["parameters"].get("feature_rounds", 0) + 1)]
    vals = [v for v in vals if isinstance(v, (int, float))]
    return sum(vals) / len(vals) if vals else None


def feature_rounds(F, s, way):
    """msgs/s and µs per message of each round, "a (x µs) / b (y µs)"."""
    cells = []
    for r in range(1, F.meta["parameters"]["feature_rounds"] + 1):
        rate, cpu = (F.get(s, f"feat-{way}-{r}", k) for k in ("delivered_per_second", "server_cpu_us_per_message"))
        cells.append("–" if rate is None else f"{rate:,.0f} ({fmt(cpu, '{:.1f}')} µs)")
    return None if all(c == "–" for c in cells) else " / ".join(cells)


def feature_checks(F, s, way):
    """Per round: sessions ready / asked, lost, and for mam runs archived / 2 × sent."""
    cells = []
    for r in range(1, F.meta["parameters"]["feature_rounds"] + 1):
        g = lambda k: F.get(s, f"feat-{way}-{r}", k)
        if g("pairs") is None:
            cells.append("–")
            continue
        c = f"{2 * g('pairs_ready')}/{2 * g('pairs')} ready, lost {g('lost')}"
        if "mam" in way:
            c += f", archived {fmt(g('archived'), '{:,}')} of {2 * g('sent'):,}"
        cells.append(c)
    return None if all(c == "–" for c in cells) else "; ".join(cells)


def features_table(F):
    """--features: chat at saturation plain, with SM, with MAM, with both."""
    p = F.meta["parameters"]
    if not p.get("feature_rounds"):
        return None
    text = (f"Chat at saturation ({p['pairs']} pairs, STARTTLS, {p['chat_seconds']} s) four ways, "
            f"{p['feature_rounds']} round(s), each on a fresh server process whose data is the provisioned accounts "
            "alone: plain; SM (tern-bench --sm: every session enables XEP-0198 stream management with resumption "
            "and answers every <r/>; a session the server does not answer <enabled/> fails its login, so "
            "\"ready\" = all says SM was on); MAM (the server archives every chat message, once for each party: "
            "Tern's mam module, Prosody's mod_mam with default_archive_policy = true on its internal storage, "
            "ejabberd's mod_mam with default: always on Mnesia); and both. Prosody's mod_smacks and ejabberd's "
            "mod_stream_mgmt are loaded only in the SM runs, the MAM modules only in the MAM runs. Figures are the "
            "mean of the rounds; \"archived of\" is the archive counted on disk after the run against 2 × messages "
            "sent.")
    rows = []
    for way, name in FEATURE_WAYS:
        rows += [
            (f"**{name}: messages/s**", lambda s, w=way: feature_mean(F, s, w, "delivered_per_second"), "{:,.0f}", True),
            (f"**{name}: server CPU per message (µs)**",
             lambda s, w=way: feature_mean(F, s, w, "server_cpu_us_per_message"), "{:.2f}", False),
        ]
    for way, name in FEATURE_WAYS[1:]:
        rows.append((f"{name}: server CPU per message − plain (µs)",
                     lambda s, w=way: (None if feature_mean(F, s, w, "server_cpu_us_per_message") is None
                                       or feature_mean(F, s, "plain", "server_cpu_us_per_message") is None else
                                       feature_mean(F, s, w, "server_cpu_us_per_message")
                                       - feature_mean(F, s, "plain", "server_cpu_us_per_message")), "{:+.2f}", None))
    for way, name in FEATURE_WAYS:
        rows.append((f"{name}: by round, msgs/s (server CPU per message)", lambda s, w=way: feature_rounds(F, s, w),
                     "{}", None))
    for way, name in FEATURE_WAYS:
        rows.append((f"{name}: sessions, losses, archive", lambda s, w=way: feature_checks(F, s, w), "{}", None))
    return "stream management (XEP-0198) and message archive (XEP-0313) at saturation", text, rows


def sent_offered(F, s, run):
    a, b = F.get(s, run, "sent_per_second"), F.get(s, run, "offered_rate")
    return None if a is None else f"{a:,.0f} ({b:,.0f})"


def join_cell(F, s, run):
    j, e, t = (F.get(s, run, k) for k in ("joined", "join_errors", "join_seconds"))
    return None if j is None else f"{j} / {e} / {t:.1f}"


def comparison_tables(F):
    tables = [hold_table(F, "plain", "plain TCP"), hold_table(F, "tls", "STARTTLS"), login_table(F),
              light_table(F), chat_table(F), chat_rate_table(F), presence_table(F), storm_table(F), muc_table(F),
              features_table(F)]
    return [t for t in tables if t]


def kept_up(F, s):
    offered, got, ok = F.sustained(s)
    if ok is None:
        return None
    return "yes" if ok else f"no: offered {offered:,.0f}, delivered {got:,.0f}"


def render_comparison(F, heading, text, rows):
    L = [f"## {heading}", "", text, "",
         "| | Tern | Prosody | ejabberd | Tern/Prosody | Tern/ejabberd |", "|:--|--:|--:|--:|--:|--:|"]
    for label, fn, f, better in rows:
        v = {s: (fn(s) if s in F.r else None) for s in ALL}
        r1 = ratio(v["tern"], v["prosody"]) if better is not None else ""
        r2 = ratio(v["tern"], v["ejabberd"]) if better is not None else ""
        cells = " | ".join(fmt(v[s], f) for s in ALL)
        L.append(f"| {label} | {cells} | {r1} | {r2} |")
    return L + [""]


def scaling_table(F):
    p = F.meta["parameters"]
    L = ["## Tern: 1 shard and 2 shards", "",
         f"Chat at saturation ({p['pairs']} pairs, {p['scaling_seconds']} s, STARTTLS) against Tern with "
         "`shards = 1` and `shards = 2` under [server], each on a fresh process. **The generator could not run "
         f"apart:** this machine has {F.meta['machine']['nproc']} cores and tern-bench shares them with the "
         "server, so two shards cannot get two cores to themselves and the throughput ratio understates what "
         "a second core gives. Messages per server-CPU-second (throughput ÷ cores the server used) is the "
         "fairer scaling proxy here: if it holds steady from 1 to 2 shards, the second shard adds no overhead "
         "per message.", "",
         "| | 1 shard | 2 shards | 2 / 1 |", "|:--|--:|--:|--:|"]
    rows = [
        ("**messages/s delivered**", lambda r: F.get("tern", r, "delivered_per_second"), "{:.0f}"),
        ("server cores busy", lambda r: F.cores("tern", r), "{:.2f}"),
        ("**messages per server-CPU-second**", lambda r: F.per_cpu_second("tern", r), "{:.0f}"),
        ("server CPU per message (µs)", lambda r: F.get("tern", r, "server_cpu_us_per_message"), "{:.2f}"),
        ("latency p99 (ms)", lambda r: div(F.get("tern", r, "latency_p99_us"), 1000), "{:.2f}"),
        ("generator cores (over the run)", lambda r: F.get("tern", r, "run_generator_cores"), "{:.2f}"),
        ("other processes' cores (over the run)", lambda r: F.get("tern", r, "run_other_cores"), "{:.2f}"),
    ]
    for label, fn, f in rows:
        a, b = fn("chat-shards1"), fn("chat-shards2")
        L.append(f"| {label} | {fmt(a, f)} | {fmt(b, f)} | {ratio(b, a)} |")
    rate = F.get("tern", "chat-shards1-paced", "offered_rate")
    if rate is None:
        return L + [""]
    L += ["", f"The same at a fixed {rate:,.0f} msgs/s (a quarter of the 2-shard saturation rate), where "
          "server and generator do not need both cores: the server CPU each message costs with one shard "
          "and with two.", "",
          "| | 1 shard | 2 shards | 2 / 1 |", "|:--|--:|--:|--:|"]
    for label, key, f in [("messages/s delivered", "delivered_per_second", "{:.0f}"),
                          ("**server CPU per message (µs)**", "server_cpu_us_per_message", "{:.2f}"),
                          ("latency p99 (ms)", "latency_p99_us", "{:.2f}")]:
        a, b = (F.get("tern", r, key) for r in ("chat-shards1-paced", "chat-shards2-paced"))
        if key == "latency_p99_us":
            a, b = div(a, 1000), div(b, 1000)
        L.append(f"| {label} | {fmt(a, f)} | {fmt(b, f)} | {ratio(b, a)} |")
    return L + [""]


def latency_ladder_table(F):
    """Tern's chat latency at 1/8, 1/4 and 1/2 of its saturation rate."""
    runs = [r for r in ("chat-rate-1of8", "chat-rate-1of4", "chat-rate") if F.get("tern", r, "offered_rate")]
    if len(runs) < 2:
        return []
    L = ["## Tern: latency by load", "",
         "Chat (same 50 pairs, STARTTLS) at fixed loads below saturation; the generator shares the two "
         "cores, and at lighter loads each message costs more CPU (fewer stanzas per wakeup and per "
         "syscall), so half of the saturation rate keeps both cores nearly busy.", "",
         "| offered (msgs/s) | delivered (msgs/s) | p50 (ms) | p90 (ms) | p99 (ms) | server CPU per message (µs) "
         "| server + generator cores |", "|--:|--:|--:|--:|--:|--:|--:|"]
    for r in runs:
        g = lambda k: F.get("tern", r, k)
        cores = div((F.cores("tern", r) or 0) + (g("run_generator_cores") or 0), 1)
        L.append(f"| {fmt(g('offered_rate'), '{:,.0f}')} | {fmt(g('delivered_per_second'), '{:,.0f}')} "
                 f"| {fmt(div(g('latency_p50_us'), 1000), '{:.2f}')} | {fmt(div(g('latency_p90_us'), 1000), '{:.2f}')} "
                 f"| {fmt(div(g('latency_p99_us'), 1000), '{:.2f}')} | {fmt(g('server_cpu_us_per_message'), '{:.1f}')} "
                 f"| {fmt(cores, '{:.2f}')} |")
    return L + [""]


# ------------------------------------------------------------------ headline
def targets(F):
    """Issue 4's targets, one a row: (label, {server: value or text}, format, target, met)."""
    others = [s for s in ("prosody", "ejabberd") if s in F.r]

    def vals(fn):
        return {s: fn(s) for s in ALL if s in F.r}

    def best(v, pick):
        """The other servers' best figure; None if there is none that makes sense
        (RSS can shrink at a small checkpoint, giving a figure <= 0)."""
        xs = [v[s] for s in others if v.get(s) is not None]
        return pick(xs) if xs and pick(xs) > 0 else None

    def goal(text, base, bound):
        return f"{text} ({bound})" if base is not None else f"{text} (no usable figure from the others)"

    out = []
    for mode, title in (("plain", "plain TCP"), ("tls", "STARTTLS")):
        v = vals(lambda s, m=mode: F.kib(s, m))
        lean = best(v, min)
        out.append((f"memory per idle session, {title}, at {F.top:,} sessions (KiB)", v, "{:.2f}",
                    goal("≤ 1/4 of the leaner other and ≤ 10", lean, f"≤ {min(10, lean / 4):.2f}" if lean else ""),
                    met(v.get("tern"), lambda t: t <= min(10, lean / 4), lean)))
    v = vals(lambda s: F.get(s, "chat", "delivered_per_second"))
    fast = best(v, max)
    out.append(("chat messages/s at saturation", v, "{:,.0f}",
                goal("≥ 3× the faster other", fast, f"≥ {fmt(fast and 3 * fast, '{:,.0f}')}"),
                met(v.get("tern"), lambda t: t >= 3 * fast, fast)))
    v = vals(lambda s: F.get(s, "chat", "server_cpu_us_per_message"))
    lean = best(v, min)
    out.append(("server CPU per chat message (µs)", v, "{:.2f}",
                goal("≤ 1/3 of the leaner other", lean, f"≤ {fmt(div(lean, 3), '{:.2f}')}"),
                met(v.get("tern"), lambda t: t <= lean / 3, lean)))
    v = vals(lambda s: F.ms(s, "chat-rate", "latency_p99_us"))
    out.append((f"chat p99 latency at half Tern's saturation ({fmt(F.half_load(), '{:,.0f}')} msgs/s) (ms)",
                {s: p99_cell(F, s, x) for s, x in v.items()}, "{:.2f}", "< 2 ms",
                met(v.get("tern"), lambda t: t < 2 and F.sustained("tern")[2])))
    r = F.shard_ratio(lambda run: F.get("tern", run, "delivered_per_second"))
    per = F.shard_ratio(lambda run: F.per_cpu_second("tern", run))
    paced = div(F.get("tern", "chat-shards1-paced", "server_cpu_us_per_message"),
                F.get("tern", "chat-shards2-paced", "server_cpu_us_per_message"))
    cell = None if r is None else (f"{r:.2f}× (per server-CPU-second {fmt(per, '{:.2f}')}×; "
                                   f"at a quarter load, CPU per message 1 shard / 2 shards {fmt(paced, '{:.2f}')}×)")
    out.append(("chat msgs/s with 2 shards / 1 shard (Tern)", {"tern": cell}, "{}", "≥ 1.7×",
                met(r, lambda t: t >= 1.7)))
    out += light_targets(F, vals)
    return out


def light_targets(F, vals):
    """Issue 16's figures (no targets set): light-load chat, storm, resumed logins; issue 13's MUC."""
    p, out = F.meta["parameters"], []
    for rate in p.get("light_rates") or []:
        run = f"chat-light-{rate}"

        def cell(s, run=run):
            p50, p99, cpu = (F.get(s, run, k) for k in ("latency_p50_us", "latency_p99_us", "server_cpu_us_per_message"))
            return None if p50 is None else f"{p50 / 1000:.2f} / {p99 / 1000:.2f} ms, {cpu:.0f} µs"
        out.append((f"chat at {rate:,} msgs/s over {p['light_pairs']} pairs: p50 / p99, server CPU per message",
                    vals(cell), "{}", "lower is better (issue 16)", None))
    if p.get("storm_sessions"):
        def storm(s):
            a, f = F.get(s, "storm", "all_back_seconds"), F.get(s, "storm", "reconnect_failed")
            if a is None:
                return None
            text = f"{a:.1f} s, {f} failed"
            if s == "tern" and F.get(s, "storm-resume", "all_back_seconds") is not None:
                text += f" (TLS resumed: {F.get(s, 'storm-resume', 'all_back_seconds'):.1f} s)"
            return text
        out.append((f"reconnect storm: {p['storm_sessions']:,} clients all back", vals(storm), "{}",
                    "lower is better (issue 16)", None))
    out.append(("logins/s with TLS resumption offered (resumed?)",
                vals(lambda s: None if F.get(s, "login-resume", "logins_per_second") is None else
                     f"{F.get(s, 'login-resume', 'logins_per_second'):,.0f} ({resumed(F, s, 'login-resume')})"),
                "{}", "higher is better (issue 16)", None))
    for c in p.get("muc_rooms") or []:
        run = f"muc-{c}"
        out.append((f"MUC {c.replace('x', ' room(s) x ')} occupants: deliveries/s, p99, server CPU per delivery",
                    vals(lambda s, run=run: None if F.get(s, run, "deliveries_per_second") is None else
                         f"{F.get(s, run, 'deliveries_per_second'):,.0f}/s, "
                         f"{F.get(s, run, 'latency_p99_us') / 1000:.1f} ms, "
                         f"{F.get(s, run, 'server_cpu_us_per_delivery'):.1f} µs"),
                    "{}", "issue 13", None))
    return out


def p99_cell(F, s, p99):
    """The p99 at half load, and what was delivered when the server did not keep up."""
    offered, got, ok = F.sustained(s)
    return p99 if ok or p99 is None else f"{p99:.2f} (offered {offered:,.0f}, delivered {got:,.0f}/s)"


def met(value, test, base=0):
    """yes/no, or None (shown "–") without Tern's figure or the other servers' one it is judged by."""
    return None if value is None or base is None else bool(test(value))


def headline_table(F):
    L = ["| target (issue 4) | Tern | Prosody | ejabberd | target | met? |", "|:--|--:|--:|--:|:--|:-:|"]
    for label, v, f, text, ok in targets(F):
        cells = " | ".join(fmt(v.get(s), f) for s in ALL)
        L.append(f"| {label} | {cells} | {text} | {'–' if ok is None else ('yes' if ok else 'no')} |")
    return L


# ------------------------------------------------------------------ report
def header(F, skipped, servers):
    m, p = F.meta["machine"], F.meta["parameters"]
    L = [f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_total_kib'] / 1048576:.1f} GiB RAM, "
         f"Linux {m['kernel']}, {m['os']}, {m['openssl']}, open-file limit {m['open_files_limit']} per process"]
    for s in ALL:
        nofile = F.r.get(s, {}).get("open_files_limit")
        L.append(f"- {NAMES[s]}: {F.meta['versions'][s]}"
                 + (f" (its open-file limit: {nofile[0]})" if nofile else "")
                 + (f" — **skipped: {skipped[s]}**" if s in skipped else "")
                 + ("" if s in servers else " — not run (--servers)"))
    L.append(f"- tern-bench: {F.meta['versions']['tern_bench']}; one thread, on the same machine: its own CPU "
             "is listed in every table, since it competes with the server for the cores.")
    loads = [f"{NAMES[s]} {' '.join(F.r[s]['loadavg_before'])}" for s in ALL if "loadavg_before" in F.r.get(s, {})]
    if loads:
        L.append("- Load average (1, 5, 15 min) when each server's runs began: " + "; ".join(loads) +
                 ". The machine is not reserved: the last row of each table shows how many cores other "
                 "processes used during each run; figures taken while that is well above 0 are depressed.")
    L.append(f"- Accounts on each server: bench0..bench{p['users'] - 1}@localhost without rosters (idle sessions, "
             f"login, chat) and bench{p['users']}..bench{p['users'] + p['presence_users'] - 1} with {p['contacts']} "
             "contacts each (presence). Sessions: STARTTLS (one self-signed P-256 certificate for all three) except "
             f"the plain-TCP idle sessions, SASL {p['mech']}, bind; generator connections from 127.0.0.1.."
             f"{p['sources']}. Rate limits and shapers off on all three (Tern: limits raised to 1,000,000; Prosody: "
             "mod_limits not loaded; ejabberd: shaper none, max_user_sessions 100000). Tern: shards = one per core "
             "unless said; Prosody 0.12: one Lua process (one core); ejabberd: one BEAM VM (all cores). "
             "SCRAM-SHA-1 because Prosody 0.12 stores only SCRAM-SHA-1.")
    L.append("- Ratios are Tern / other. For messages/s, logins/s and deliveries/s more is better; for KiB, "
             "CPU and latency less is better.")
    return L


def timings_table(timings):
    stages = []
    for t in timings.values():
        stages += [k for k in t if k not in stages and k != "total"]
    L = ["## Time taken", "", "Wall seconds per step (accounts: creating them; start-*: starting the server; "
         "the rest: the tern-bench runs, with the wait for an idle server before each).", "",
         "| step | " + " | ".join(NAMES[s] for s in ALL if s in timings) + " |",
         "|:--|" + "--:|" * len(timings)]
    for st in stages + ["total"]:
        L.append(f"| {st} | " + " | ".join(str(timings[s].get(st, "–")) for s in ALL if s in timings) + " |")
    return L + [""]


def chart(F, raw, out, date):
    """Six panels: the headline figures, one bar per server."""
    have = [s for s in ALL if s in F.r]
    if not have:
        return
    panels = [
        (f"KiB per idle session, plain TCP, {F.top:,} sessions", lambda s: F.kib(s, "plain"), "%.1f"),
        (f"KiB per idle session, STARTTLS, {F.top:,} sessions", lambda s: F.kib(s, "tls"), "%.1f"),
        ("chat messages/s at saturation", lambda s: F.get(s, "chat", "delivered_per_second"), "%.0f"),
        ("logins/s (STARTTLS)", lambda s: F.get(s, "login", "logins_per_second"), "%.0f"),
        ("chat p99 (ms) at half Tern's saturation", lambda s: F.ms(s, "chat-rate", "latency_p99_us"), "%.2f"),
        ("presence deliveries/s", lambda s: F.get(s, "presence", "deliveries_per_second"), "%.0f"),
    ]
    dat = os.path.join(raw, "chart.dat")
    with open(dat, "w") as f:
        for s in have:
            f.write(NAMES[s] + " " + " ".join(str(fn(s) or 0) for _, fn, _ in panels) + "\n")
    term = "png"
    if "pngcairo" in subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True).stderr:
        term = "pngcairo"
    m = F.meta
    gp = [f'set terminal {term} size 1350,720 font "sans,10"', f'set output "{os.path.join(out, date + ".png")}"',
          f'set multiplot layout 2,3 title "Tern, Prosody, ejabberd on {m["machine"]["nproc"]} CPUs, {date} '
          f'({m["parameters"]["mech"]})"',
          "set style data histograms", "set style fill solid 0.8 border -1", "set boxwidth 0.6", "set grid ytics",
          "set yrange [0:*]", "set offsets 0, 0, graph 0.15, 0", "unset key"]
    colours = ["#cc0000", "#f57900", "#3465a4", "#4e9a06", "#75507b", "#c4a000"]
    for i, (title, _, f) in enumerate(panels):
        col = i + 2
        gp += [f'set title "{title}"',
               f'plot "{dat}" using {col}:xtic(1) linecolor rgb "{colours[i]}", '
               f'"" using 0:{col}:(sprintf("{f}", ${col})) with labels offset 0,0.7 notitle']
    gp.append("unset multiplot")
    res = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", capture_output=True, text=True)
    if res.returncode != 0:
        print("gnuplot failed:\n" + res.stderr, file=sys.stderr)


def shard_runs(F):
    """(shards, label) of the --scaling runs, by shard count."""
    runs = [(int(m.group(1)), l) for l in F.r.get("tern", {}) if (m := re.fullmatch(r"scale-shards(\d+)", l))]
    return sorted(runs)


def shard_scaling_table(F):
    """--scaling: server CPU per message at one offered load, by shard count."""
    runs, m, p = shard_runs(F), F.meta["machine"], F.meta["parameters"]
    sat = F.get("tern", "scale-saturation", "delivered_per_second")
    rate = next((F.get("tern", l, "offered_rate") for _, l in runs), None)
    pinned = [n for n, l in runs if F.get("tern", l, "pinned_server") not in (None, "none")]
    if m["nproc"] <= 2:
        pin_note = (f"**This machine has {m['nproc']} cores: no pinning is possible with the server using every "
                    "core**; the 1-shard run pins the server to core 0 and tern-bench to core 1, the 2-shard run "
                    "pins neither, so there the generator competes with the server for the cores.")
    else:
        pin_note = ("The server is pinned (taskset) to cores 0..S−1 and tern-bench to the other cores; the run "
                    "with S = all cores pins neither.")
    L = ["## Tern: CPU per message by shard count", "",
         f"Chat ({p['pairs']} pairs, STARTTLS, {p['scaling_seconds']} s) at one fixed offered load, "
         f"{fmt(rate, '{:,.0f}')} msgs/s (half of the 1-shard saturation, {fmt(sat, '{:,.0f}')} msgs/s, or "
         "--chat-rate), against Tern with `shards = S` for S = 1, 2, 4 … up to the core count, each on a fresh "
         f"process. {pin_note} Pinned runs: {', '.join(str(n) for n in pinned) or 'none'}. With perfect "
         "scaling the CPU per message stays the same (ratio 1.00); more than 1 is the cost of the extra shards "
         "(cross-shard hand-offs, idle wakeups).", "",
         "| shards | server cores | generator cores | offered (msgs/s) | delivered (msgs/s) | p50 (ms) | p99 (ms) "
         "| **server CPU per message (µs)** | ratio to 1 shard | server cores busy |",
         "|--:|:--|:--|--:|--:|--:|--:|--:|--:|--:|"]
    base = next((F.get("tern", l, "server_cpu_us_per_message") for n, l in runs if n == 1), None)
    for n, l in runs:
        g = lambda k: F.get("tern", l, k)
        cpu = g("server_cpu_us_per_message")
        L.append(f"| {n} | {pin_cell(g('pinned_server'))} | {pin_cell(g('pinned_generator'))} "
                 f"| {fmt(g('offered_rate'), '{:,.0f}')} | {fmt(g('delivered_per_second'), '{:,.0f}')} "
                 f"| {fmt(div(g('latency_p50_us'), 1000), '{:.2f}')} | {fmt(div(g('latency_p99_us'), 1000), '{:.2f}')} "
                 f"| {fmt(cpu, '{:.2f}')} | {ratio(cpu, base)} | {fmt(F.cores('tern', l), '{:.2f}')} |")
    return L + [""]


def pin_cell(v):
    return "not pinned" if v in (None, "none") else v.replace("taskset -c ", "cores ")


def scaling_report(F, raw, out, date, skipped, timings):
    L = [f"# Tern: shard scaling, {date}", "", "Written by `bench/compare.sh --scaling`.", ""]
    L += header(F, skipped, ["tern"])[:1] + [f"- Tern: {F.meta['versions']['tern']}", ""]
    L += shard_scaling_table(F) + timings_table(timings)
    open(os.path.join(out, date + ".md"), "w").write("\n".join(L))
    runs = shard_runs(F)
    base = next((F.get("tern", l, "server_cpu_us_per_message") for n, l in runs if n == 1), None)
    headline = {n: {"server_cpu_us_per_message": F.get("tern", l, "server_cpu_us_per_message"),
                    "ratio_to_1_shard": div(F.get("tern", l, "server_cpu_us_per_message"), base),
                    "pinned_server": F.get("tern", l, "pinned_server")} for n, l in runs}
    json.dump({"meta": F.meta, "skipped": skipped, "scaling": headline, "timings_seconds": timings,
               "results": F.r}, open(os.path.join(out, date + ".json"), "w"), indent=1)
    print("\n".join(shard_scaling_table(F)))


def main():
    raw, out, date, servers = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
    meta, results, skipped, timings = load(raw)
    F = Figures(results, meta)
    if meta["parameters"].get("mode") == "scaling":
        return scaling_report(F, raw, out, date, skipped, timings)
    head = headline_table(F)
    L = [f"# Tern, Prosody and ejabberd side by side: {date}", "",
         "Written by `bench/compare.sh`. The three servers ran one after the other in the same sitting on "
         "loopback, each alone on the machine, driven by the same load generator (`build/tern-bench`).", "",
         "## Headline", ""] + head + ["",
         "Memory is at the largest checkpoint; the p99 row is the fixed-load run below (a server that could not "
         "sustain the load shows what it delivered); the shard row is the last section.", ""]
    L += header(F, skipped, servers) + [""]
    for heading, text, rows in comparison_tables(F):
        L += render_comparison(F, heading, text, rows)
    if "chat-shards1" in results.get("tern", {}) or "chat-shards2" in results.get("tern", {}):
        L += scaling_table(F)
    L += latency_ladder_table(F)
    L += timings_table(timings)
    L += [f"Raw tern-bench output of every run: `{date}.json` (`results.SERVER.RUN`, RUN one of "
          f"{', '.join(LABELS)}, login-resume, chat-light-RATE, storm, storm-resume, muc-RxO, feat-WAY-ROUND). Chart: `{date}.png`.", "", f"![headline figures]({date}.png)", ""]
    open(os.path.join(out, date + ".md"), "w").write("\n".join(L))

    rows = [{"target": label, "values": v, "goal": text, "met": ok} for label, v, _, text, ok in targets(F)]
    headline = {s: {
        "kib_per_session_plain": F.kib(s, "plain"), "kib_per_session_tls": F.kib(s, "tls"),
        "logins_per_second": F.get(s, "login", "logins_per_second"),
        "messages_per_second": F.get(s, "chat", "delivered_per_second"),
        "server_cpu_us_per_message": F.get(s, "chat", "server_cpu_us_per_message"),
        "half_load_offered": F.get(s, "chat-rate", "offered_rate"),
        "half_load_delivered": F.get(s, "chat-rate", "delivered_per_second"),
        "half_load_p50_ms": F.ms(s, "chat-rate", "latency_p50_us"),
        "half_load_p99_ms": F.ms(s, "chat-rate", "latency_p99_us"),
        "presence_deliveries_per_second": F.get(s, "presence", "deliveries_per_second"),
        "login_resume_logins_per_second": F.get(s, "login-resume", "logins_per_second"),
        "login_resume_tls_resumed": F.get(s, "login-resume", "tls_resumed"),
        "light": {str(r): {"p50_ms": F.ms(s, f"chat-light-{r}", "latency_p50_us"),
                           "p99_ms": F.ms(s, f"chat-light-{r}", "latency_p99_us"),
                           "server_cpu_us_per_message": F.get(s, f"chat-light-{r}", "server_cpu_us_per_message")}
                  for r in meta["parameters"].get("light_rates") or []},
        "storm_all_back_seconds": F.get(s, "storm", "all_back_seconds"),
        "storm_failed": F.get(s, "storm", "reconnect_failed"),
        "storm_resume_all_back_seconds": F.get(s, "storm-resume", "all_back_seconds"),
        "muc": {c: {"deliveries_per_second": F.get(s, f"muc-{c}", "deliveries_per_second"),
                    "p99_ms": F.ms(s, f"muc-{c}", "latency_p99_us"),
                    "server_cpu_us_per_delivery": F.get(s, f"muc-{c}", "server_cpu_us_per_delivery")}
                for c in meta["parameters"].get("muc_rooms") or []},
        "features": {w: {"messages_per_second": feature_mean(F, s, w, "delivered_per_second"),
                         "server_cpu_us_per_message": feature_mean(F, s, w, "server_cpu_us_per_message")}
                     for w, _ in FEATURE_WAYS} if meta["parameters"].get("feature_rounds") else None,
    } for s in ALL if s in results}
    if "tern" in headline:
        headline["tern"]["shards_2_over_1"] = F.shard_ratio(lambda l: F.get("tern", l, "delivered_per_second"))
    json.dump({"meta": meta, "skipped": skipped, "headline": headline, "targets": rows,
               "timings_seconds": timings, "results": results},
              open(os.path.join(out, date + ".json"), "w"), indent=1)
    chart(F, raw, out, date)
    print("\n".join(head))
    if features_table(F):
        print("\n" + "\n".join(render_comparison(F, *features_table(F))))


if __name__ == "__main__":
    main()
