package term

import (
	"io"
	"os"
)

// OSStdio is where the standard streams are allowed: term wraps them.
func OSStdio() (io.Writer, io.Writer) { return os.Stdout, os.Stderr }
