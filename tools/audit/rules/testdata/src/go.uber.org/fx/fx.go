// Package fx is a stub of go.uber.org/fx.
package fx

type Option interface{}

func Module(name string, opts ...Option) Option { return nil }
func Provide(cs ...any) Option                  { return nil }
