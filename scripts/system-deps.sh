#!/usr/bin/env bash
# Debian packages that Ärende's set-up and tests use. Installs only what is missing, and only
# when it can (root with apt-get); otherwise it says what to install and carries on.
# `system-deps.sh` is what running the app needs; `system-deps.sh browser` adds the browser tests',
# `system-deps.sh mail` the IMAP server the mail tests start (Dovecot); several may be given.
set -euo pipefail

needed=()
command -v msgfmt >/dev/null 2>&1 || needed+=(gettext)
for part in "$@"; do
  case "$part" in
    browser)
      [ -x /usr/bin/chromium ] || needed+=(chromium)
      fc-list 2>/dev/null | grep -qi dejavu || needed+=(fonts-dejavu-core)
      ;;
    mail)
      [ -x /usr/sbin/dovecot ] || needed+=(dovecot-imapd)
      ;;
  esac
done

if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${needed[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${needed[@]}" >/dev/null
else
  echo "Please install these Debian packages (browser tests and translations need them): ${needed[*]}" >&2
fi
