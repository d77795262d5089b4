package ports

import "errors"

// RegularFiles reads the small local files a setting names — the CA bundle,
// the client certificate and its key — the one careful way the config
// adapter reads its own: without blocking on a FIFO, refusing what is not a
// regular file, and through a hard bound whatever size the file reports.
// The caller words the error, since only it knows which setting named the
// file and where that setting came from.
type RegularFiles interface {
	// Read returns the file's bytes. ErrFileTooLarge or a NotRegularFile
	// say why a file was refused; other errors are the OS's.
	Read(path string, limit int64) ([]byte, error)
}

// ErrFileTooLarge says a file holds more than the reader's limit.
var ErrFileTooLarge = errors.New("too large")

// NotRegularFile is a file that is not a regular file, with what it is
// ("a named pipe (FIFO)", "a directory", …).
type NotRegularFile struct{ What string }

func (e NotRegularFile) Error() string { return "is " + e.What + ", not a regular file" }
