#!/usr/bin/env bash
# Fetches the upstream model repository (runner binaries, .axmodel files, tokenizer) at the pinned
# commit into models/, with its git-lfs files, and makes the runners executable.
#
# Safe to run again: a complete download is left untouched ("nothing to do"), an interrupted one
# resumes (git-lfs keeps the objects it already has), a clone at another commit is moved to the
# pinned one. Local edits inside the model directory are never thrown away: a checkout that would
# overwrite them stops with an error instead.
#
# Environment (all optional; relative paths are taken from the project root):
#   QWEN_MODEL_REPO_URL  default https://huggingface.co/AXERA-TECH/Qwen2.5-1.5B-Instruct-GPTQ-Int4
#   QWEN_MODEL_COMMIT    default 01d5a6eb90d9be5dd3de32518ec99c04d9ae5da5
#   QWEN_MODEL_DIR       default models/Qwen2.5-1.5B-Instruct-GPTQ-Int4
set -euo pipefail

readonly DEFAULT_URL='https://huggingface.co/AXERA-TECH/Qwen2.5-1.5B-Instruct-GPTQ-Int4'
readonly DEFAULT_COMMIT='01d5a6eb90d9be5dd3de32518ec99c04d9ae5da5'
readonly DEFAULT_DIR='models/Qwen2.5-1.5B-Instruct-GPTQ-Int4'
# Upstream ships these without the executable bit.
readonly EXECUTABLES=(
  main_axcl_aarch64
  main_axcl_x86
  run_qwen2.5_1.5b_gptq_int4_axcl_aarch64.sh
  run_qwen2.5_1.5b_gptq_int4_axcl_x86.sh
)
readonly LFS_POINTER_HEADER='version https://git-lfs.github.com/spec/v1'
readonly INSTALL_HINT='install them with:  sudo apt install git git-lfs && git lfs install'

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

say() { printf 'download_models: %s\n' "$*"; }
die() {
  printf 'download_models: ERROR: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  '') ;;
  *) usage >&2; die "unknown argument: $1" ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REPO_URL="${QWEN_MODEL_REPO_URL:-$DEFAULT_URL}"
COMMIT="${QWEN_MODEL_COMMIT:-$DEFAULT_COMMIT}"
TARGET="${QWEN_MODEL_DIR:-$DEFAULT_DIR}"
TARGET="${TARGET%/}"
PARTIAL="$TARGET.partial"
changed=0

[[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]] || die "QWEN_MODEL_COMMIT must be a full 40-character commit id, got '$COMMIT'"

# --- tools -------------------------------------------------------------------------------------
command -v git >/dev/null 2>&1 || die "git is not installed; $INSTALL_HINT"
git lfs version >/dev/null 2>&1 ||
  die "git-lfs is not installed (without it the model files are only small pointer files); $INSTALL_HINT"

# Runs git in the model directory. Checkouts write LFS pointers only; `git lfs pull` fetches the
# content afterwards, resumably and with progress.
mgit() { GIT_LFS_SKIP_SMUDGE=1 git -C "$TARGET" "$@"; }

# Small files starting with the LFS pointer header: content git-lfs has not fetched (yet).
pointer_stubs() {
  local file size header
  while IFS= read -r -d '' file; do
    [ -f "$TARGET/$file" ] || continue
    size="$(stat -c %s -- "$TARGET/$file")"
    [ "$size" -lt 1024 ] || continue
    header="$(head -c ${#LFS_POINTER_HEADER} -- "$TARGET/$file")"
    [ "$header" = "$LFS_POINTER_HEADER" ] && printf '%s\n' "$file"
  done < <(git -C "$TARGET" ls-files -z)
  return 0
}

# --- clone (into a side directory, so the target only ever holds a complete checkout) ------------
if [ -e "$TARGET" ] && ! git -C "$TARGET" rev-parse --git-dir >/dev/null 2>&1; then
  die "$TARGET exists but is not a git clone; move it away and run again"
fi
if [ -e "$TARGET" ] && [ "$(git -C "$TARGET" rev-parse --show-toplevel)" != "$(cd "$TARGET" && pwd -P)" ]; then
  die "$TARGET is inside another git repository, not a clone of the model; move it away and run again"
fi

if [ ! -e "$TARGET" ]; then
  if [ -e "$PARTIAL" ]; then
    say "removing the unfinished clone $PARTIAL left by an interrupted run"
    rm -rf -- "$PARTIAL"
  fi
  say "cloning $REPO_URL into $TARGET (without the large files yet)"
  mkdir -p -- "$(dirname -- "$TARGET")"
  GIT_LFS_SKIP_SMUDGE=1 git clone --no-checkout --quiet -- "$REPO_URL" "$PARTIAL" ||
    die "cannot clone $REPO_URL (network, URL or mirror problem?)"
  git -C "$PARTIAL" config core.fileMode false
  git -C "$PARTIAL" cat-file -e "$COMMIT^{commit}" 2>/dev/null ||
    git -C "$PARTIAL" fetch --quiet origin "$COMMIT" 2>/dev/null ||
    die "the pinned commit $COMMIT is not in $REPO_URL"
  GIT_LFS_SKIP_SMUDGE=1 git -C "$PARTIAL" -c advice.detachedHead=false checkout --quiet --detach "$COMMIT"
  mv -- "$PARTIAL" "$TARGET"
  changed=1
fi

# --- repository settings ---------------------------------------------------------------------------
# The executable bits we set must not count as local changes (they would block a later checkout).
if [ "$(git -C "$TARGET" config --bool core.fileMode || true)" != false ]; then
  git -C "$TARGET" config core.fileMode false
fi
# Make the clone's own git-lfs filters independent of the user's global `git lfs install`.
if ! git -C "$TARGET" config --get filter.lfs.smudge >/dev/null 2>&1; then
  git -C "$TARGET" lfs install --local >/dev/null
fi
current_url="$(git -C "$TARGET" remote get-url origin 2>/dev/null || true)"
if [ "$current_url" != "$REPO_URL" ]; then
  say "pointing origin at $REPO_URL (was '${current_url:-none}')"
  if [ -n "$current_url" ]; then git -C "$TARGET" remote set-url origin "$REPO_URL"; else git -C "$TARGET" remote add origin "$REPO_URL"; fi
  changed=1
fi

# --- the pinned commit ---------------------------------------------------------------------------
head="$(git -C "$TARGET" rev-parse --verify --quiet HEAD || true)"
if [ "$head" != "$COMMIT" ]; then
  if ! git -C "$TARGET" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
    say "fetching the pinned commit $COMMIT from $REPO_URL"
    mgit fetch --quiet origin || die "cannot fetch from $REPO_URL"
    git -C "$TARGET" cat-file -e "$COMMIT^{commit}" 2>/dev/null ||
      mgit fetch --quiet origin "$COMMIT" 2>/dev/null ||
      die "the pinned commit $COMMIT is not in $REPO_URL"
  fi
  say "moving $TARGET from ${head:-no commit} to the pinned commit $COMMIT"
  mgit -c advice.detachedHead=false checkout --quiet --detach "$COMMIT" ||
    die "cannot check out $COMMIT in $TARGET (local changes in the way? see: git -C $TARGET status)"
  changed=1
fi

mapfile -t missing < <(git -C "$TARGET" ls-files --deleted)
if [ "${#missing[@]}" -gt 0 ]; then
  say "restoring ${#missing[@]} missing file(s)"
  mgit checkout --quiet -- "${missing[@]}"
  changed=1
fi

# --- the large files -----------------------------------------------------------------------------
mapfile -t stubs < <(pointer_stubs)
if [ "${#stubs[@]}" -gt 0 ] && [ -n "$(git -C "$TARGET" lfs ls-files --name-only 2>/dev/null)" ]; then
  say "fetching ${#stubs[@]} large file(s) with git-lfs (about 1.7 GB the first time; an interrupted run resumes)"
  if ! git -C "$TARGET" lfs pull origin; then
    printf 'download_models: %s\n' "git lfs pull failed (see above); what it fetched is kept for the next run" >&2
  fi
  changed=1
  mapfile -t stubs < <(pointer_stubs)
fi
if [ "${#stubs[@]}" -gt 0 ]; then
  printf 'download_models: ERROR: %s\n' \
    "these model files are git-lfs pointer stubs, not the real files:" >&2
  printf '  %s\n' "${stubs[@]}" >&2
  die "git-lfs did not fetch them. Check that git-lfs is installed ($INSTALL_HINT), the network, and that $REPO_URL serves its LFS files; then run this script again (it resumes)"
fi

# --- verify and fix permissions ------------------------------------------------------------------
head="$(git -C "$TARGET" rev-parse HEAD)"
[ "$head" = "$COMMIT" ] || die "$TARGET is at $head, not at the pinned commit $COMMIT"

present=0
for name in "${EXECUTABLES[@]}"; do
  file="$TARGET/$name"
  if [ ! -f "$file" ]; then
    say "warning: $name is not in the model repository"
    continue
  fi
  present=$((present + 1))
  if [ ! -x "$file" ]; then
    chmod +x -- "$file"
    say "made $name executable"
    changed=1
  fi
done
[ -f "$TARGET/main_axcl_aarch64" ] || [ -f "$TARGET/main_axcl_x86" ] ||
  die "neither main_axcl_aarch64 nor main_axcl_x86 is in $TARGET: is $REPO_URL the right repository?"

if [ "$changed" -eq 0 ]; then
  say "nothing to do: $TARGET is already at $COMMIT with every model file present"
else
  say "done: $TARGET is at $COMMIT with every model file present ($present runner files executable)"
fi
