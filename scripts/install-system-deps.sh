#!/usr/bin/env bash
# Install what assay needs from the system and is missing: bubblewrap, the language
# toolchains (ruby and php through apt, TypeScript through npm). Safe to re-run: it only
# installs what is not already there.
set -euo pipefail

# command -> Debian package that provides it
declare -A APT_PACKAGES=(
    [bwrap]=bubblewrap
    [setpriv]=util-linux
    [unshare]=util-linux
    [ruby]=ruby
    [php]=php-cli
    [gcc]=gcc
    [g++]=g++
    [javac]=openjdk-17-jdk-headless
    [node]=nodejs
    [npm]=npm
    [go]=golang-go
    [rustc]=rustc
    [python3]=python3
)
TYPESCRIPT_VERSION=7.0.2
TYPES_NODE_VERSION=20

export PATH="$PATH:/usr/local/go/bin:$HOME/.cargo/bin"

missing=()
for cmd in "${!APT_PACKAGES[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${APT_PACKAGES[$cmd]}")
done
# The sandbox runs Python solutions on the system interpreter, not on a version manager's.
[ -x /usr/bin/python3 ] || missing+=(python3)
# SWE environments are venvs of the system interpreter (Debian splits ensurepip out).
/usr/bin/python3 -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
# Maven runs Java projects' tests in SWE environments; patch is not needed (git apply is).
command -v mvn >/dev/null 2>&1 || missing+=(maven)

if [ ${#missing[@]} -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [ "$(id -u)" -ne 0 ]; then
        echo "assay needs these system packages: ${missing[*]}" >&2
        echo "install them as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm_root="$(npm root -g)"
if ! command -v tsc >/dev/null 2>&1 || [ ! -d "$npm_root/@types/node" ] \
        || [ "$(tsc --version 2>/dev/null)" != "Version $TYPESCRIPT_VERSION" ]; then
    echo "installing typescript@$TYPESCRIPT_VERSION and @types/node@$TYPES_NODE_VERSION"
    npm install -g --no-audit --no-fund --loglevel=error \
        "typescript@$TYPESCRIPT_VERSION" "@types/node@$TYPES_NODE_VERSION" >/dev/null
fi
