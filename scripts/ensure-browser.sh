#!/usr/bin/env bash
# Make sure Debian's Chromium, ChromeDriver and CJK fonts are installed for the browser tests.
# Only Debian's packages are used: test tools must never download a browser of their own.
set -euo pipefail

packages=(chromium chromium-driver fonts-noto-cjk)
chromium=/usr/bin/chromium
chromedriver=/usr/bin/chromedriver

have_cjk_font() {
    dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed'
}

ready() {
    [[ -x $chromium && -x $chromedriver ]] && have_cjk_font
}

give_up() {
    echo "ensure-browser: $1" >&2
    echo "ensure-browser: install them with: apt-get install -y --no-install-recommends ${packages[*]}" >&2
    if [[ ${CI:-} == true || ${CI:-} == 1 ]]; then
        exit 1
    fi
    echo "ensure-browser: continuing; the browser tests will be skipped" >&2
    exit 0
}

if ready; then
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    give_up "Chromium, ChromeDriver or fonts-noto-cjk is missing and this is not a Debian system"
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    give_up "Chromium, ChromeDriver or fonts-noto-cjk is missing and we are neither root nor allowed passwordless sudo"
fi

# Another apt run (a developer's, or the machine's own set-up) may hold the lock: wait up to
# ten minutes for it rather than failing at once.
apt_opts=(-o DPkg::Lock::Timeout=600)
echo "ensure-browser: installing ${packages[*]}" >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${packages[@]}"

ready || give_up "apt-get finished but $chromium, $chromedriver or fonts-noto-cjk is still missing"
