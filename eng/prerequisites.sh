#!/usr/bin/env bash
# What the tests need beyond the .NET SDK: Debian's libunicorn2 (QEMU's x86 MMU through the Unicorn engine, the
# differential tests' oracle). Installs it when it is missing and this user may install packages (root, or sudo
# without a password); otherwise stops with one line that says what to run. Silent and quick when all is there.
# Run by the oracle project's build (so `dotnet test Generated.sln` sets itself up) and by .ci/run.
set -uo pipefail

have_unicorn() { ldconfig -p 2>/dev/null | grep -q 'libunicorn\.so\.2'; }

[ "$(uname -s)" = Linux ] || exit 0
have_unicorn && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: libunicorn.so.2 (Unicorn 2, the tests' QEMU oracle) is missing and this is not a Debian-like system: install Unicorn 2 with your package manager" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "error: libunicorn2 (the tests' QEMU oracle) is missing: run 'sudo apt-get install -y libunicorn2'" >&2
  exit 1
fi

echo "installing libunicorn2 (the tests' QEMU oracle) with apt-get..."
export DEBIAN_FRONTEND=noninteractive
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq libunicorn2; } >/dev/null 2>&1 || ! have_unicorn; then
  echo "error: could not install libunicorn2 with apt-get: run 'apt-get install -y libunicorn2' and read what it says" >&2
  exit 1
fi
