package ports

import (
	"errors"
	"fmt"
)

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

// ReadSettingFile reads path through files. When it cannot, why says so
// in words that follow the path in a message ("is a named pipe (FIFO),
// not a regular file", "is larger than 4 MiB", "cannot be read"), and
// cause is the OS's error behind the last; the caller names the setting.
func ReadSettingFile(files RegularFiles, path string, limit int64) (b []byte, why string, cause error) {
	b, err := files.Read(path, limit)
	var nr NotRegularFile
	switch {
	case err == nil:
		return b, "", nil
	case errors.As(err, &nr):
		return nil, nr.Error(), nil
	case errors.Is(err, ErrFileTooLarge):
		return nil, fmt.Sprintf("is larger than %d MiB", limit>>20), nil
	default:
		return nil, "cannot be read", err
	}
}
