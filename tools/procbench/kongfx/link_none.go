//go:build !libraries

package main

// link links nothing in the plain kongfx build.
func link() {}
