//go:build !unix

package keychain

import "os"

const noFollow = 0

func privateDir(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}
