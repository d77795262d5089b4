// Package app holds stella's use cases — Login, Logout, Status, Whoami,
// API — and the TokenManager, the only way to get a token. It works against
// ports only: the adapters that talk to Authorities, stores and terminals
// are chosen by the composition root (internal/cli, started by cmd/stella) and injected.
package app
