#!/usr/bin/env bash
# CI: run two built checkouts of bench (the merge-base and the pull request's
# head) on this machine, interleaved, and compare them.
#
#   scripts/ci-compare.sh BASE_DIR HEAD_DIR OUT_DIR
#
# Round i runs each side once (`bench run --repeat 1 --seed i`): base then
# head in odd rounds, head then base in even ones (ABBA), so that drift during
# the job (thermal, noisy neighbours) favours neither side. `bench compare`
# merges each side's rounds into one sample per case × runtime. The HEAD
# build compares, so a pull request that changes the comparison is judged by
# its own code.
#
# Writes OUT_DIR/base/<run>/, OUT_DIR/head/<run>/, OUT_DIR/comparison.json,
# OUT_DIR/comparison.html (one self-contained page with the distributions
# drawn, for the artifact the comment links) and OUT_DIR/comment.md (the
# pull-request comment, with its marker). Results that
# are refused as incomparable (exit 2) are compared again with --force, so the
# comment names the differences. Exits with the final compare's code: 0, 3 (a
# run failed), 10 (a regression, with --fail-on-regression).
#
# Environment: BENCH_ROUNDS (default 10), BENCH_ARGS (what `bench run` runs),
# BENCH_COMPARE_ARGS (default --fail-on-regression), BENCH_NODE (default node).
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BASE_DIR HEAD_DIR OUT_DIR" >&2
  exit 2
fi
base_dir=$(cd "$1" && pwd) || exit 2
head_dir=$(cd "$2" && pwd) || exit 2
mkdir -p "$3" && out=$(cd "$3" && pwd) || exit 2
rounds=${BENCH_ROUNDS:-10}
read -r -a run_args <<< "${BENCH_ARGS:---scenario echo echo-rate --quick --duration 2}"
read -r -a compare_args <<< "${BENCH_COMPARE_ARGS:---fail-on-regression}"
node=${BENCH_NODE:-node}

run_side() { # side dir round
  echo "::group::round $3 of $rounds: $1"
  (cd "$2" && "$node" dist/cli/main.js run "${run_args[@]}" --repeat 1 --seed "$3" --label "$1" --out "$out/$1")
  local code=$?
  # A failed cell is in the result and makes compare exit 3; keep going so every round is measured.
  [ "$code" -eq 0 ] || echo "::warning::round $3: the $1 run exited $code"
  echo "::endgroup::"
}

for ((i = 1; i <= rounds; i++)); do
  if ((i % 2 == 1)); then
    run_side base "$base_dir" "$i"
    run_side head "$head_dir" "$i"
  else
    run_side head "$head_dir" "$i"
    run_side base "$base_dir" "$i"
  fi
done

compare() { "$node" "$head_dir/dist/cli/main.js" compare "$out/base" "$out/head" "$@"; }
force=()
compare --format json > "$out/comparison.json"
if [ $? -eq 2 ]; then
  echo "::warning::bench compare refused the results (see above); comparing with --force so the comment names the differences"
  force=(--force)
  compare --format json "${force[@]}" > "$out/comparison.json"
fi
# The page is a view of the same comparison: its own exit code (a regression) is the markdown call's to give.
compare --format html "${force[@]}" > "$out/comparison.html" || true
[ -s "$out/comparison.html" ] || rm -f "$out/comparison.html"
compare --format markdown "${force[@]}" "${compare_args[@]}" > "$out/comment.md"
code=$?
if [ ! -s "$out/comment.md" ]; then
  printf '%s\n**bench compare could not compare the runs** (exit %s): see the job log.\n' '<!-- bench-compare -->' "$code" > "$out/comment.md"
fi
exit "$code"
