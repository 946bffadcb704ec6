# Shell functions the measuring scripts share; source it after setting
# work (a scratch directory holding the built carebridge binary), PORT and,
# for PostgreSQL, BENCH_POSTGRES.

# serve DB [ARGS...]: starts a gateway on DB and waits for it to be ready.
# Logs at warn, so that request lines do not cost the measurement. The
# binary is $work/carebridge, or $carebridge when set (carebridge=BIN serve DB).
# The per-client rate limit is off: a measurement is one client at full
# speed (set by environment, which binaries older than the limit ignore).
# Authentication is off (CAREBRIDGE_INSECURE_NO_AUTH), unless ARGS give
# the configuration auth_setup writes.
serve() {
  local db=$1; shift
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT is taken by another process; set PORT" >&2; exit 1
  fi
  CAREBRIDGE_INSECURE_NO_AUTH=${insecure:-true} CAREBRIDGE_RATE_LIMIT_RPS=0 "${carebridge:-$work/carebridge}" serve --db "$db" --addr "127.0.0.1:$PORT" --log-level warn "$@" >"$work/gateway.log" 2>&1 &
  gateway=$!
  for _ in $(seq 100); do
    if "$work/carebridge" healthcheck --url "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  cat "$work/gateway.log"; exit 1
}

# stop: stops the gateway serve started.
stop() { kill "$gateway"; wait "$gateway" 2>/dev/null || true; }

# fresh ENGINE NAME: prints a new, empty database URL.
fresh() {
  if [ "$1" = sqlite ]; then echo "sqlite:$work/$2.db"; return; fi
  psql -q "$BENCH_POSTGRES" -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2" >/dev/null 2>&1
  echo "${BENCH_POSTGRES%/*}/$2"
}

# auth_setup: makes a gateway key and a key for one trust client, "bench"
# (profile uk-core-trust, every scope), and writes $work/auth.yaml, the
# configuration that serves with them: serve DB --config "$work/auth.yaml"
# with insecure=false.
auth_setup() {
  "$work/carebridge" keys generate --out "$work/auth/gateway" --name gateway >/dev/null
  "$work/carebridge" keys generate --out "$work/auth/clients" --name bench >/dev/null
  cat >"$work/auth.yaml" <<YAML
baseUrl: http://127.0.0.1:$PORT/fhir
auth:
  keysDir: $work/auth/gateway
  tokenLifetime: 1h
  clients:
    - {id: bench, ods: RXX, side: secondary, profile: uk-core-trust, scopes: ["system/*.cruds"], keys: [$work/auth/clients/bench.jwks.json]}
YAML
}

# token: prints an access token for the client auth_setup made, from the
# running gateway.
token() {
  "$work/carebridge" token access --target "http://127.0.0.1:$PORT/fhir" --client-id bench --key "$work/auth/clients/bench.pem"
}
