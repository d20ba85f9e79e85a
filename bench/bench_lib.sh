# Shared by the one-sitting bench scripts (ab.sh, chat_features.sh,
# pep_vs_presence.sh): a free loopback port, a self-signed certificate for
# "localhost", and a tern.toml with the rate limits a load generator needs.
# Source it; nothing runs at load.

# free_port: prints a TCP port free on 127.0.0.1 right now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# make_cert DIR: DIR/localhost.crt and DIR/localhost.key, valid two days.
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$1/localhost.key" -out "$1/localhost.crt" 2>/dev/null
}

# bench_config FILE DATA_DIR PORT MODULES [CERT_DIR]: c2s on 127.0.0.1:PORT
# only; with CERT_DIR, STARTTLS required with make_cert's files. MODULES is
# the inside of the TOML list ('"ping", "roster"').
bench_config() {
  local file=$1 data=$2 port=$3 modules=$4 certs=${5:-}
  {
    cat <<TOML
[server]
domains = ["localhost"]
data_dir = "$data"
log_level = "warn"
[listen]
c2s = ["127.0.0.1:$port"]
c2s_tls = []
s2s = []
http = []
https = []
component = []
[limits]
max_resources_per_account = 16
# every benchmark connection comes from loopback and sends flat out
connections_per_ip_per_minute = 1000000
stanza_rate = 1000000
stanza_burst = 1000000
[modules]
enabled = [$modules]
TOML
    if [[ -n $certs ]]; then
      printf '[tls]\ncert = "%s"\nkey = "%s"\nrequire_starttls = true\n' \
        "$certs/localhost.crt" "$certs/localhost.key"
    fi
  } >"$file"
}

# The feature set Prosody and ejabberd load in bench/compare.sh.
BENCH_BASE_MODULES='"ping", "roster", "presence", "offline", "disco", "muc"'
