// Package domain holds stella's pure types and rules: sessions, tokens, secrets,
// settings, error kinds and the exit-code table, the refresh policy, and the
// parsers for what servers send back (OAuth errors, RFC 9457 problem details,
// WWW-Authenticate, JWT claims).
//
// It imports the standard library only, performs no I/O, reads no clock and
// keeps no globals beyond constant tables: time and randomness arrive as
// arguments, so every rule here is a table test away from being proven.
package domain
