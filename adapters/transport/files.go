package transport

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// errTooLarge says readRegular found more than the limit.
var errTooLarge = errors.New("too large")

// notRegular is a file that is not a regular file, with what it is.
type notRegular struct{ what string }

func (e notRegular) Error() string { return "is " + e.what + ", not a regular file" }

// readRegular (the same rule as the config adapter's: adapters share no
// code) reads a regular file of at most limit bytes. It opens without
// blocking (a FIFO with no writer would otherwise hang the open, beyond the
// reach of Ctrl-C), refuses anything that is not a regular file (a FIFO, a
// device such as /dev/zero, a socket, a directory), and reads through a hard
// bound whatever size the file reports: a device reports 0 and never ends.
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
		return nil, st, notRegular{kindOfFile(st.Mode())}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, st, err
	}
	if int64(len(b)) > limit {
		return nil, st, errTooLarge
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
