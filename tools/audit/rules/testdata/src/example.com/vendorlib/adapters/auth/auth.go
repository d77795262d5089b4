// Package auth is a third-party library that merely shares the name of an
// adapter: importing it is not importing an adapter.
package auth

func Hello() string { return "" }
