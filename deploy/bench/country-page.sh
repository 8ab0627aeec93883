#!/usr/bin/env bash
# Country-page benchmark: the site against nginx serving the same bytes, on
# the same machine, in one run, with wrk. Also reports the page weight, the
# time from start to the first request served, and idle memory.
#
# Usage: bash deploy/bench/country-page.sh   (make bench builds the binary first)
# Knobs: BENCH_PATH (default /en/countries/af), BENCH_SECONDS (10),
#        BENCH_CONNECTIONS (64), BENCH_THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/../.."

PAGE=${BENCH_PATH:-/en/countries/af}
SECONDS_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
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

# Start the site and time the first request it serves.
t0=$(date +%s%N)
# Public pages need neither engine; empty values keep var/dev.env out of it.
DATABASE_URL= MEILI_URL= FAMILYLINKS_ADDR=127.0.0.1:$SITE_PORT FAMILYLINKS_LOG_LEVEL=error "$BIN" serve &
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

run() { # run URL → requests per second
  wrk -t"$THREADS" -c"$CONNS" -d2s -H 'Accept-Encoding: gzip' "$1" >/dev/null # warm-up
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_RUN}s" -H 'Accept-Encoding: gzip' --latency "$1" > "$WORK/wrk.$2.txt"
  awk '/Requests\/sec/{print $2}' "$WORK/wrk.$2.txt"
}
site_rps=$(run "http://127.0.0.1:$SITE_PORT$PAGE" site)
nginx_rps=$(run "http://127.0.0.1:$NGINX_PORT$PAGE" nginx)
ratio=$(awk -v a="$site_rps" -v b="$nginx_rps" 'BEGIN{printf "%.2f", a/b}')
p50() { awk '$1=="50%"{print $2}' "$WORK/wrk.$1.txt"; }

echo "country page $PAGE, gzip bodies of $gz bytes, wrk -t$THREADS -c$CONNS -d${SECONDS_RUN}s on $(nproc) cores"
printf '  site : %10.0f req/s  (p50 %s)\n' "$site_rps" "$(p50 site)"
printf '  nginx: %10.0f req/s  (p50 %s)\n' "$nginx_rps" "$(p50 nginx)"
echo "  ratio site/nginx: $ratio (target >= 0.80)"
echo "page weight: html $raw bytes raw, $gz gzip, $br brotli; css+icon $assets bytes brotli; total transferred (brotli) $((br + assets)) bytes (budget 30720)"
echo "start-up: first request served ${first_ms} ms after exec (budget 1000); idle RSS $((idle_rss / 1024)) MiB (budget 100)"
