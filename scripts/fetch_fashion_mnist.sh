#!/usr/bin/env bash
# Put Fashion-MNIST (IDX files, uncompressed) into data/fashion-mnist/.
#
# Source: the Debian package "dataset-fashion-mnist", which installs the four gzipped
# IDX files under /usr/share/datasets/fashion-mnist/. They are decompressed here under
# the original MNIST file names, so the C++ reader takes them with --data data/fashion-mnist.
#
# Idempotent: does nothing if all four files already exist with the expected sizes.
# Usage: scripts/fetch_fashion_mnist.sh    (run from anywhere; scripts/setup.sh installs the package)
set -euo pipefail

DEB_PACKAGE="dataset-fashion-mnist"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$repo_root/data/fashion-mnist"

# name size sha256 (of the uncompressed file)
files=(
  "train-images-idx3-ubyte 47040016 c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
  "train-labels-idx1-ubyte 60008 bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
  "t10k-images-idx3-ubyte 7840016 5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
  "t10k-labels-idx1-ubyte 10008 0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
)

die() { echo "fetch_fashion_mnist.sh: error: $*" >&2; exit 1; }

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
  echo "Fashion-MNIST already present in $dest (all four files have the expected sizes); nothing to do."
  exit 0
fi

command -v dpkg >/dev/null 2>&1 || die "dpkg not found on PATH (this script needs Debian's $DEB_PACKAGE)"
command -v gzip >/dev/null 2>&1 || die "gzip not found on PATH"

listing="$(dpkg -L "$DEB_PACKAGE" 2>/dev/null)" \
  || die "Debian package $DEB_PACKAGE is not installed (apt-get install $DEB_PACKAGE, or run scripts/setup.sh)"

mkdir -p "$dest"
for entry in "${files[@]}"; do
  read -r name size sha <<<"$entry"
  gz="$(grep -E "/$name\.gz\$" <<<"$listing" | head -n 1 || true)"
  [[ -n "$gz" ]] || die "package $DEB_PACKAGE lists no $name.gz"
  [[ -f "$gz" ]] || die "$gz is missing (package $DEB_PACKAGE damaged? apt-get install --reinstall $DEB_PACKAGE)"
  part="$dest/.$name.part"
  gzip -dc "$gz" >"$part" || { rm -f "$part"; die "could not decompress $gz"; }
  got_size="$(file_size "$part")"
  [[ "$got_size" == "$size" ]] || { rm -f "$part"; die "$name has size $got_size, expected $size"; }
  got_sha="$(sha256sum "$part" | cut -d' ' -f1)"
  [[ "$got_sha" == "$sha" ]] || { rm -f "$part"; die "$name sha256 mismatch: got $got_sha, expected $sha"; }
  mv -f "$part" "$dest/$name"
  echo "  $name  $size bytes  sha256 ok"
done

echo "Fashion-MNIST ready in $dest"
