// Imported first by the tests that run bench's CLI on Node servers. Plain node ids run the pinned Node versions
// (core/runtime-versions), which bench installs from npm on first use; the test suite must never download, so
// those tests run plain node ids on the Node on PATH, as before issue 17 (BENCH_DEFAULT_NODE=system). The
// pipeline with versions is tested on the project's own binaries and on fakes (test/cli/run-versions.test.ts,
// test/core/runtime-versions/).
process.env['BENCH_DEFAULT_NODE'] ??= 'system';
