#!/usr/bin/env bash
# What `make demo` and `make test` need from this machine, installed when it is missing.
#
#   scripts/setup-machine.sh venv   Python's venv module (to create .venv)
#   scripts/setup-machine.sh demo   + Chromium (the browser the demo opens)
#   scripts/setup-machine.sh test   + Xvfb, xdotool, Node.js and npm, then the JS tests' npm packages,
#                                   and a Secret Service for the keychain tests (GNOME Keyring, D-Bus's
#                                   dbus-run-session, libsecret's secret-tool)
#
# On Debian and Ubuntu the missing packages are installed with apt-get (through sudo when not
# root), after one line saying what and why. Elsewhere it prints the exact command to run and
# stops. Nothing is installed when everything is there, so it is quick to run every time.
#
# For tests: SIDEDESK_SETUP_OS overrides the detected system (debian, fedora, arch, macos, other).
set -euo pipefail

MODE="${1:-test}"
case "$MODE" in venv | demo | test) ;; *)
  echo "usage: $0 venv|demo|test" >&2
  exit 2
  ;;
esac
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PY:-python3}"
NODE_MIN=18

detect_os() {
  if [ -n "${SIDEDESK_SETUP_OS:-}" ]; then echo "$SIDEDESK_SETUP_OS"; return; fi
  case "$(uname -s)" in
    Darwin) echo macos; return ;;
    Linux) ;;
    *) echo other; return ;;
  esac
  if [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then echo debian
  elif command -v dnf >/dev/null 2>&1; then echo fedora
  elif command -v pacman >/dev/null 2>&1; then echo arch
  else echo other
  fi
}
OS="$(detect_os)"

# -- what is missing -------------------------------------------------------------------------------
# Each need: a key, why it is needed (one phrase), and whether it is there.
missing=()   # keys
whys=()      # "key: why"

need() { # need KEY WHY -- the check already failed
  missing+=("$1")
  whys+=("$1 ($2)")
}

has_chromium() {
  if [ -n "${SIDEDESK_CHROMIUM:-}" ]; then [ -x "$SIDEDESK_CHROMIUM" ]; return; fi
  command -v chromium >/dev/null 2>&1
}

command -v "$PY" >/dev/null 2>&1 && "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 \
  || need python-venv "Python's venv, to create .venv"
if [ "$MODE" != venv ]; then
  has_chromium || need chromium "the browser the demo and the browser tests drive"
fi
if [ "$MODE" = test ]; then
  command -v Xvfb >/dev/null 2>&1 || need xvfb "a virtual screen for the hotkey tests"
  command -v xdotool >/dev/null 2>&1 || need xdotool "presses real hotkeys in the hotkey tests"
  command -v node >/dev/null 2>&1 || need nodejs "runs the extension's JavaScript tests"
  command -v npm >/dev/null 2>&1 || need npm "installs the JavaScript tests' DOM library"
  command -v dbus-run-session >/dev/null 2>&1 || need dbus "a private session bus for the keychain tests"
  command -v gnome-keyring-daemon >/dev/null 2>&1 || need gnome-keyring "a real Secret Service for the keychain tests"
  command -v secret-tool >/dev/null 2>&1 || need libsecret-tools "inspects the keychain by hand"
fi

# Package names per system, in the order of the keys above.
pkg() { # pkg OS KEY
  case "$1:$2" in
    debian:python-venv) echo python3-venv ;;
    debian:chromium) echo chromium ;;
    debian:xvfb) echo xvfb ;;
    debian:xdotool) echo xdotool ;;
    debian:nodejs) echo nodejs ;;
    debian:npm) echo npm ;;
    debian:dbus) echo dbus ;;
    debian:gnome-keyring) echo gnome-keyring ;;
    debian:libsecret-tools) echo libsecret-tools ;;
    fedora:python-venv) echo python3 ;;
    fedora:chromium) echo chromium ;;
    fedora:xvfb) echo xorg-x11-server-Xvfb ;;
    fedora:xdotool) echo xdotool ;;
    fedora:nodejs) echo nodejs ;;
    fedora:npm) echo npm ;;
    fedora:dbus) echo dbus-daemon ;;
    fedora:gnome-keyring) echo gnome-keyring ;;
    fedora:libsecret-tools) echo libsecret ;;
    arch:python-venv) echo python ;;
    arch:chromium) echo chromium ;;
    arch:xvfb) echo xorg-server-xvfb ;;
    arch:xdotool) echo xdotool ;;
    arch:nodejs) echo nodejs ;;
    arch:npm) echo npm ;;
    arch:dbus) echo dbus ;;
    arch:gnome-keyring) echo gnome-keyring ;;
    arch:libsecret-tools) echo libsecret ;;
    macos:python-venv) echo python ;;
    macos:chromium) echo --cask chromium ;;
    macos:nodejs) echo node ;;
    macos:npm) echo node ;;
    *) echo "$2" ;;
  esac
}

stop() { # stop MESSAGE... -- a clean stop with what to do
  printf '%s\n' "$@" >&2
  exit 1
}

if [ ${#missing[@]} -gt 0 ]; then
  pkgs=()
  for key in "${missing[@]}"; do
    for p in $(pkg "$OS" "$key"); do
      case " ${pkgs[*]-} " in *" $p "*) ;; *) pkgs+=("$p") ;; esac
    done
  done
  what="$(IFS=';'; echo "${whys[*]}" | sed 's/;/; /g')"
  case "$OS" in
    debian)
      if [ "$(id -u)" = 0 ]; then SUDO=()
      elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo)
      else stop "make $MODE needs: $what." "Run as root: apt-get install -y ${pkgs[*]}"
      fi
      echo "make $MODE: installing ${pkgs[*]} with ${SUDO[*]:+${SUDO[*]} }apt-get — needed: $what"
      export DEBIAN_FRONTEND=noninteractive
      "${SUDO[@]}" apt-get update -qq
      "${SUDO[@]}" apt-get install -y -qq "${pkgs[@]}" >/dev/null
      ;;
    fedora)
      stop "make $MODE needs: $what." "Install it with: sudo dnf install -y ${pkgs[*]}" "then run make $MODE again." ;;
    arch)
      stop "make $MODE needs: $what." "Install it with: sudo pacman -S --needed ${pkgs[*]}" "then run make $MODE again." ;;
    macos)
      if [ "$MODE" = test ]; then
        stop "make test needs: $what." \
          "Its browser tests run Chromium under Xvfb with xdotool, which exist on Linux only:" \
          "run make test on Debian or Ubuntu (a VM or a container such as: docker run -it -v \"\$PWD:/src\" -w /src debian:trixie bash -c 'apt-get update && apt-get install -y make python3 && make test')."
      fi
      stop "make $MODE needs: $what." "Install it with: brew install ${pkgs[*]}" \
        "then, for Chromium: export SIDEDESK_CHROMIUM=/Applications/Chromium.app/Contents/MacOS/Chromium and run make $MODE again." ;;
    *)
      stop "make $MODE needs: $what." \
        "Install these with your system's package manager (${pkgs[*]}), or set SIDEDESK_CHROMIUM to a Chromium binary," \
        "then run make $MODE again." ;;
  esac
  # Installed: check again, so a package that did not provide what it should is reported.
  if [ "$MODE" != venv ] && ! has_chromium; then
    stop "chromium is still not found after installing it." \
      "Ubuntu's chromium package is a Snap, which cannot start native hosts: install a .deb build and set SIDEDESK_CHROMIUM to it."
  fi
fi

if [ "$MODE" != test ]; then exit 0; fi

# -- Node.js version and the JS tests' npm packages -------------------------------------------------
major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"
case "$major" in '' | *[!0-9]*) major=0 ;; esac
if [ "$major" -lt "$NODE_MIN" ]; then
  stop "Node.js $(node --version 2>/dev/null || echo '?') is too old: the JavaScript tests need Node $NODE_MIN or newer." \
    "Install a newer nodejs (Debian 12+, Ubuntu 24.04+ ship one: apt-get install nodejs npm), then run make test again."
fi
stamp="$ROOT/node_modules/.sidedesk-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/package.json" -nt "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
  echo "make test: installing the JavaScript tests' packages with npm ci (happy-dom, a small DOM for the panel's unit tests)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
