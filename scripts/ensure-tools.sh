#!/usr/bin/env bash
# Make sure the Debian tools the deployment tests run for real are installed: nginx (the
# project's nginx.conf in front of two web processes), openssl (a throwaway certificate) and
# redis-server (a private one the tests may kill). Same rules as ensure-browser.sh: Debian's
# packages only, apt when root (or passwordless sudo), and under CI=true a missing tool fails.
set -euo pipefail

# command → Debian package
declare -A tools=([nginx]=nginx [openssl]=openssl [redis-server]=redis-server)

missing=()
for tool in "${!tools[@]}"; do
    if ! command -v "$tool" >/dev/null && [[ ! -x /usr/sbin/$tool ]]; then
        missing+=("${tools[$tool]}")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

give_up() {
    echo "ensure-tools: $1" >&2
    echo "ensure-tools: install them with: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    if [[ ${CI:-} == true || ${CI:-} == 1 ]]; then
        exit 1
    fi
    echo "ensure-tools: continuing; the tests that need them will be skipped" >&2
    exit 0
}

if ! command -v apt-get >/dev/null; then
    give_up "${missing[*]} missing and this is not a Debian system"
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    give_up "${missing[*]} missing and we are neither root nor allowed passwordless sudo"
fi

# The packages' own services must not start here: the tests run nginx and redis-server as
# child processes on free ports. With no policy-rc.d saying so already, RUNLEVEL=1 keeps
# invoke-rc.d from starting them.
apt_opts=(-o DPkg::Lock::Timeout=600)
echo "ensure-tools: installing ${missing[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"

for tool in "${!tools[@]}"; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
        give_up "apt-get finished but $tool is still missing"
done
