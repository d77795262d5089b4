package term

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/stellaops/stella/domain"
)

// LogHandler writes slog records for people: warnings as "warning: …"
// always, and with -v every debug line with a timestamp. Secrets reach it
// only as domain.Secret, whose LogValue is "[redacted]".
type LogHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
	group string
}

// NewLogHandler logs at Warn and above, or Debug when verbose > 0.
func NewLogHandler(w io.Writer, verbose int) *LogHandler {
	level := slog.LevelWarn
	if verbose > 0 {
		level = slog.LevelDebug
	}
	return &LogHandler{mu: &sync.Mutex{}, w: w, level: level}
}

// Enabled implements slog.Handler.
func (h *LogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

// Handle implements slog.Handler.
func (h *LogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	if h.level < slog.LevelInfo {
		b.WriteString(r.Time.Format("15:04:05.000 "))
	}
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	default:
		b.WriteString("debug: ")
	}
	// Messages and values carry servers' words (errors, metadata, URLs):
	// sanitised here, so no log line can drive the terminal (SPEC §6).
	b.WriteString(domain.Printable(r.Message, 2000))
	write := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			return
		}
		key := a.Key
		if h.group != "" {
			key = h.group + "." + key
		}
		v := a.Value.String()
		if d, ok := a.Value.Any().(time.Duration); ok {
			v = d.String()
		}
		v = domain.Printable(v, 1000)
		if strings.ContainsAny(v, " \t\"=") {
			v = `"` + strings.ReplaceAll(v, `"`, `\"`) + `"` // already sanitised: quote, do not re-escape
		}
		b.WriteString(" " + key + "=" + v)
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(func(a slog.Attr) bool { write(a); return true })
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs implements slog.Handler.
func (h *LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup implements slog.Handler.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}
