package term

import (
	"fmt"
	"io"
	"sync"

	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports"
)

// Console writes guidance and progress on stderr: a live line rewritten in
// place on a terminal, plain lines (every so often) in CI logs.
type Console struct {
	w        io.Writer
	tty      bool
	mu       sync.Mutex
	live     bool
	lastLine string
}

// NewConsole returns a console on t's stderr; it does no I/O.
func NewConsole(t IO) *Console { return &Console{w: t.Err, tty: IsTerminal(t.Err)} }

var _ ports.Console = (*Console)(nil)

// Say prints one line.
func (c *Console) Say(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLive()
	// Lines carry servers' words (device URIs, codes); only stella's own
	// escape sequences below may reach the terminal as controls.
	fmt.Fprintln(c.w, domain.PrintableLines(line))
}

// Progress shows a status line: in place on a terminal, else only when it
// changes (callers keep it coarse, such as whole minutes left).
func (c *Console) Progress(line string) {
	line = domain.Printable(line, 500)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tty {
		fmt.Fprintf(c.w, "\r\033[K%s", line)
		c.live = true
		return
	}
	if line != c.lastLine {
		fmt.Fprintln(c.w, line)
		c.lastLine = line
	}
}

// Done ends a live line.
func (c *Console) Done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLive()
}

func (c *Console) endLive() {
	if c.live {
		fmt.Fprint(c.w, "\r\033[K")
		c.live = false
	}
}
