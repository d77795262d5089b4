// Package jwt is the development Authority's own JWT code.
package jwt

func Sign() string { return "" }
