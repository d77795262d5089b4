package config

import (
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/stellaops/stella/ports"
)

// Files is readRegular as a port, for the adapters that read a file a
// setting names (the transport's CA bundle, client certificate and key):
// one copy of the rule, the config adapter's, which handles every other
// file a setting names.
type Files struct{}

var _ ports.RegularFiles = Files{}

// Read reads a regular file of at most limit bytes (readRegular).
func (Files) Read(path string, limit int64) ([]byte, error) {
	b, _, err := readRegular(path, limit)
	return b, err
}

// readRegular reads a regular file of at most limit bytes. It opens without
// blocking (a FIFO with no writer would otherwise hang the open, beyond the
// reach of Ctrl-C), refuses anything that is not a regular file (a FIFO, a
// device such as /dev/zero, a socket, a directory), and reads through a hard
// bound whatever size the file reports: a device reports 0 and never ends.
// Refusals are ports.ErrFileTooLarge and ports.NotRegularFile.
func readRegular(path string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, st, ports.NotRegularFile{What: kindOfFile(st.Mode())}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, st, err
	}
	if int64(len(b)) > limit {
		return nil, st, ports.ErrFileTooLarge
	}
	return b, st, nil
}

func kindOfFile(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
