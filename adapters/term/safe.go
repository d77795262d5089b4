package term

import (
	"io"
	"unicode/utf8"

	"github.com/stellaops/stella/domain"
)

// SafeWriter passes text to a terminal (or a file, or a pipe) with every
// control, bidirectional or invisible formatting character shown as a
// \uXXXX escape; only line breaks and tabs pass (SPEC §6). Whatever a
// printer forgot to clean, this is where it is cleaned. JSON written
// through it stays valid and means the same. A rune split across two
// writes is held until the next write completes it.
type SafeWriter struct {
	w    io.Writer
	tail []byte
}

// NewSafeWriter wraps w; it does no I/O.
func NewSafeWriter(w io.Writer) *SafeWriter { return &SafeWriter{w: w} }

// Write cleans p and writes it; it reports len(p) on success.
func (s *SafeWriter) Write(p []byte) (int, error) {
	buf := append(s.tail, p...)
	s.tail = nil
	// Keep an incomplete rune at the end for the next write.
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				s.tail = append([]byte(nil), buf[i:]...)
				buf = buf[:i]
			}
			break
		}
	}
	if _, err := io.WriteString(s.w, domain.PrintableLines(string(buf))); err != nil {
		return 0, err
	}
	return len(p), nil
}
