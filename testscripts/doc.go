// Package testscripts runs stella — the test binary under that name, one
// process per call (TestMain) — through txtar scenarios (testdata/*.txtar)
// against the development Authority, started in-process by the `authority`
// command of each script. See README.md "Tests".
package testscripts
