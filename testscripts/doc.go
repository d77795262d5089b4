// Package testscripts runs the real stella binary through txtar scenarios
// (testdata/*.txtar) against the development Authority, started in-process
// by the `authority` command of each script. See README.md "Tests".
package testscripts
