#!/usr/bin/env bash
# Country-page benchmark: the site against nginx serving the same bytes, on
# the same machine, in one run, with wrk, as PRODUCT.md describes it (nginx
# on all cores, wrk -t1 -c64, with and without gzip). Every active Society
# has a published contact card (deploy/bench/cardfixture), so the page
# measured carries one. Also reports the page weight, the time from start
# to the first request served, and idle memory.
#
# Usage: bash deploy/bench/country-page.sh   (make bench builds the binary first)
# Knobs: BENCH_PATH (default /en/countries/af), BENCH_SECONDS (10),
#        BENCH_CONNECTIONS (64), BENCH_THREADS (1), BENCH_CARDS (1; 0 for
#        pages without cards and without a database).
set -euo pipefail
cd "$(dirname "$0")/../.."

PAGE=${BENCH_PATH:-/en/countries/af}
SECONDS_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-1}
CARDS=${BENCH_CARDS:-1}
BIN=var/bin/familylinks
WORK=$PWD/var/bench
SITE_PORT=18080
NGINX_PORT=18081

need() { # need COMMAND DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return
  [ -x "/usr/sbin/$1" ] && return
  if [ "$(id -u)" != 0 ]; then
    echo "bench: $1 is missing; install the Debian package $2" >&2; exit 1
  fi
  echo "bench: installing $2" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need wrk wrk
need nginx nginx-light
need curl curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$BIN" ] || { echo "bench: $BIN missing; run make bench" >&2; exit 1; }

rm -rf "$WORK"; mkdir -p "$WORK/www$(dirname "$PAGE")" "$WORK/nginx"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

db=
if [ "$CARDS" = 1 ]; then
  if [ -z "${FAMILYLINKS_TEST_DATABASE_URL:-}" ]; then
    # A throw-away PostgreSQL for the cards, stopped when the bench ends.
    exec "$BIN" testenv -- bash "$0" "$@"
  fi
  db=$FAMILYLINKS_TEST_DATABASE_URL
  export DATABASE_URL=$db FAMILYLINKS_LOG_LEVEL=error
  "$BIN" migrate
  for who in bench-a bench-b; do
    echo "bench password for $who" | "$BIN" staff add --email "$who@familylinks.invalid" --role admin --password-stdin >/dev/null
  done
  "$BIN" directory export | go run ./deploy/bench/cardfixture > "$WORK/cards.json"
  "$BIN" directory import --as bench-a@familylinks.invalid "$WORK/cards.json"
  "$BIN" directory publish --as bench-b@familylinks.invalid
fi

# Start the site and time the first request it serves.
t0=$(date +%s%N)
# Public pages need no search engine; empty values keep var/dev.env out of it.
DATABASE_URL=$db MEILI_URL= FAMILYLINKS_ADDR=127.0.0.1:$SITE_PORT FAMILYLINKS_LOG_LEVEL=error "$BIN" serve &
pids+=($!); site_pid=$!
until curl -fsS -o /dev/null "http://127.0.0.1:$SITE_PORT/healthz" 2>/dev/null; do
  kill -0 "$site_pid" 2>/dev/null || { echo "bench: the site did not start" >&2; exit 1; }
  sleep 0.005
done
t1=$(date +%s%N)
first_ms=$(( (t1 - t0) / 1000000 ))
sleep 1
idle_rss=$(awk '/VmRSS/{print $2}' "/proc/$site_pid/status")

# The same bytes for nginx: the site's own gzip body, served by gzip_static.
url="http://127.0.0.1:$SITE_PORT$PAGE"
if [ "$CARDS" = 1 ]; then
  for _ in $(seq 100); do curl -fsS "$url" | grep -q 'class="society-card"' && break; sleep 0.1; done
  curl -fsS "$url" | grep -q 'class="society-card"' || { echo "bench: $PAGE carries no card" >&2; exit 1; }
fi
curl -fsS -H 'Accept-Encoding: gzip' -o "$WORK/www$PAGE.gz" "$url"
curl -fsS -o "$WORK/www$PAGE" "$url"
br=$(curl -fsS -H 'Accept-Encoding: br' "$url" | wc -c)
gz=$(wc -c < "$WORK/www$PAGE.gz")
raw=$(wc -c < "$WORK/www$PAGE")
assets=0
for a in $(grep -oE '/static/[^"]+' "$WORK/www$PAGE" | sort -u); do
  n=$(curl -fsS -H 'Accept-Encoding: br' "http://127.0.0.1:$SITE_PORT$a" | wc -c)
  assets=$((assets + n))
done

cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type text/html;
  gzip_static on;
  etag on;
  client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx; uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
  server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
CONF
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
pids+=($!)
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT$PAGE" 2>/dev/null && break; sleep 0.05; done
cmp -s <(curl -fsS -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NGINX_PORT$PAGE") "$WORK/www$PAGE.gz" \
  || { echo "bench: nginx does not serve the site's bytes" >&2; exit 1; }

run() { # run URL NAME ENCODING → requests per second
  wrk -t"$THREADS" -c"$CONNS" -d2s -H "Accept-Encoding: $3" "$1" >/dev/null # warm-up
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_RUN}s" -H "Accept-Encoding: $3" --latency "$1" > "$WORK/wrk.$2.txt"
  awk '/Requests\/sec/{print $2}' "$WORK/wrk.$2.txt"
}
p50() { awk '$1=="50%"{print $2}' "$WORK/wrk.$1.txt"; }

echo "country page $PAGE ($([ "$CARDS" = 1 ] && echo "with a card" || echo "no card")), $raw bytes, $gz gzip; wrk -t$THREADS -c$CONNS -d${SECONDS_RUN}s on $(nproc) cores"
for enc in gzip identity; do
  site_rps=$(run "http://127.0.0.1:$SITE_PORT$PAGE" "site-$enc" "$enc")
  nginx_rps=$(run "http://127.0.0.1:$NGINX_PORT$PAGE" "nginx-$enc" "$enc")
  ratio=$(awk -v a="$site_rps" -v b="$nginx_rps" 'BEGIN{printf "%.2f", a/b}')
  printf '  %-8s site %8.0f req/s (p50 %s), nginx %8.0f req/s (p50 %s): ratio %s (target >= 0.80)\n' \
    "$enc" "$site_rps" "$(p50 "site-$enc")" "$nginx_rps" "$(p50 "nginx-$enc")" "$ratio"
done
echo "page weight: html $raw bytes raw, $gz gzip, $br brotli; css+icon $assets bytes brotli; total transferred (brotli) $((br + assets)) bytes (budget 30720)"
echo "start-up: first request served ${first_ms} ms after exec (budget 1000); idle RSS $((idle_rss / 1024)) MiB (budget 100)"
