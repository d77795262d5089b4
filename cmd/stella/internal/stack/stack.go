// Package stack grows the main goroutine's stack to what a command needs
// before the program's packages are initialised. Importing it is all it
// takes.
//
// A goroutine starts with 2 KiB of stack, and each time it outgrows it the
// runtime copies it, looking up every frame's stack map in the binary's
// pclntab. The main goroutine runs every package's initialisation and
// then main, so it used to be copied twice during initialisation (deep
// inside regexp compiles, among others) and once more at the top of main:
// each copy of a deep stack faulted in pclntab pages all over the binary,
// 64 KiB apiece with the kernel's fault-around. Growing it here, while
// only runtime.main and this init are on it, costs one copy of two frames:
// 0.4–0.6 MiB less peak RSS and about a tenth of `stella version`'s time
// (make bench). The stack is not shrunk back later: that happens only
// during a garbage collection, which a short command never starts
// (shortLivedGC).
//
// It must import nothing: packages are initialised in import-path order
// as soon as all their imports are, so a package without imports is
// initialised among the first; stack_test.go keeps it that way.
package stack

// size is how much stack a command's main goroutine needs: initialising
// the packages, parsing the command line (kong's model builder recurses)
// and the commands that print a cached token stay within it.
const size = 28 << 10

func init() { grow() }

// grow needs a frame of size bytes, so the runtime allocates a stack that
// holds it, once.
//
//go:noinline
func grow() {
	var frame [size]byte
	touch(frame[:])
}

// touch keeps the frame from being optimised away; it does not escape.
//
//go:noinline
func touch(b []byte) { b[len(b)-1] = 1 }
