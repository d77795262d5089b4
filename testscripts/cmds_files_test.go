package testscripts

// Script commands about the token cache's files.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// theSession returns the one session file of the script's token cache.
func theSession(ts *testscript.TestScript) string {
	matches, err := filepath.Glob(filepath.Join(ts.MkAbs("cfg"), "tokens", "*.session"))
	ts.Check(err)
	if len(matches) != 1 {
		ts.Fatalf("want exactly one session file, found %d", len(matches))
	}
	return matches[0]
}

// cp-session NAME copies the session file to $WORK/NAME.
func cmdCopySession(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: cp-session NAME")
	}
	b, err := os.ReadFile(theSession(ts))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
}

// same-session NAME checks the session file is byte-for-byte $WORK/NAME.
func cmdSameSession(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: same-session NAME")
	}
	got, err := os.ReadFile(theSession(ts))
	ts.Check(err)
	want, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	if bytes.Equal(got, want) == neg {
		ts.Fatalf("session file changed: %v", !bytes.Equal(got, want))
	}
}

// flip-session flips one bit of the session file's last byte (ciphertext).
func cmdFlipSession(ts *testscript.TestScript, neg bool, args []string) {
	p := theSession(ts)
	b, err := os.ReadFile(p)
	ts.Check(err)
	b[len(b)-1] ^= 0x01
	ts.Check(os.WriteFile(p, b, 0o600))
}

// put-session NAME writes $WORK/NAME over the one session file.
func cmdPutSession(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: put-session NAME")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(theSession(ts), b, 0o600))
}

// sessions N checks how many session files the token cache holds, and that
// no temporary file was left behind.
func cmdSessions(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sessions N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	entries, _ := os.ReadDir(filepath.Join(ts.MkAbs("cfg"), "tokens"))
	got := 0
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".session"):
			got++
		case strings.Contains(e.Name(), ".tmp"):
			ts.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
	if got != want {
		ts.Fatalf("%d session files, want %d", got, want)
	}
}

// corrupt-files N [NAME] checks that N files were moved aside as
// *.corrupt-<time>, and, with NAME, that one of them is byte for byte
// $WORK/NAME: moved, never rewritten or deleted.
func cmdCorruptFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: corrupt-files N [NAME]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	matches, err := filepath.Glob(filepath.Join(ts.MkAbs("cfg"), "tokens", "*.session.corrupt-*"))
	ts.Check(err)
	if len(matches) != want {
		ts.Fatalf("%d files moved aside, want %d", len(matches), want)
	}
	if len(args) == 2 {
		orig, err := os.ReadFile(ts.MkAbs(args[1]))
		ts.Check(err)
		for _, m := range matches {
			if b, _ := os.ReadFile(m); bytes.Equal(b, orig) {
				return
			}
		}
		ts.Fatalf("no moved file is identical to %s", args[1])
	}
}

// perm MODE PATH checks a file's permission bits, e.g. `perm 0600 cfg/tokens/x`.
func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm MODE PATH")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	matches, err := filepath.Glob(ts.MkAbs(args[1]))
	ts.Check(err)
	if len(matches) == 0 {
		ts.Fatalf("perm: nothing matches %s", args[1])
	}
	for _, m := range matches {
		st, err := os.Stat(m)
		ts.Check(err)
		if got := uint64(st.Mode().Perm()); (got == want) == neg {
			ts.Fatalf("perm: %s has mode %#o, want %#o", m, got, want)
		}
	}
}

// tmpfs DIR SIZE mounts a tmpfs of SIZE (e.g. 256k) on DIR, unmounted when
// the script ends: a small disk to fill. It needs root; scripts say
// `[!root] skip` first.
func cmdTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o700))
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+args[1]+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		ts.Fatalf("tmpfs: mount: %v\n%s", err, out)
	}
	ts.Defer(func() { _ = exec.Command("umount", "-l", dir).Run() })
}
