# Sourced by .ci/run: makes sure a service the tests need is up. Start it if installed, install it
# with apt-get if not; never skip. Each check talks to the real port.
set -euo pipefail

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name, seconds, check command
  local name=$1 seconds=$2; shift 2
  for _ in $(seq 1 "$seconds"); do
    if "$@" >/dev/null 2>&1; then echo "ci: $name is up"; return 0; fi
    sleep 1
  done
  echo "ci: $name did not come up" >&2
  return 1
}

ensure_postgres() {
  if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then echo "ci: postgres is up"; return; fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version; version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for postgres 60 pg_isready -h 127.0.0.1 -p 5432
  # trust auth on loopback and a `test` database, as the tests expect (a fresh Debian install
  # asks loopback clients for a password)
  if ! psql -h 127.0.0.1 -U postgres -d postgres -tc 'select 1' >/dev/null 2>&1; then
    local hba; hba=$(su postgres -c "psql -tAc 'show hba_file'")
    sed -i -E 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)[a-z0-9-]+/\1trust/' "$hba"
    su postgres -c "psql -tAc 'select pg_reload_conf()'" >/dev/null
    wait_for "postgres trust auth" 10 psql -h 127.0.0.1 -U postgres -d postgres -tc 'select 1'
  fi
  psql -h 127.0.0.1 -U postgres -tc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 ||
    su postgres -c "createdb test" || true
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then echo "ci: redis is up"; return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for redis 30 sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG'
}

ensure_rabbitmq() {
  if (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then echo "ci: rabbitmq is up"; return; fi
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  rabbitmq-server -detached || true
  wait_for rabbitmq 180 sh -c '(exec 3<>/dev/tcp/127.0.0.1/5672)'
}
