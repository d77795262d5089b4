package domain

// BuildInfo identifies this build of stella.
type BuildInfo struct {
	Version string
	Commit  string
	GOOS    string
	GOARCH  string
}

// UserAgent is sent on every request (SPEC §3.6).
func (b BuildInfo) UserAgent() string {
	return "stella/" + b.Version + " (" + b.GOOS + "/" + b.GOARCH + ")"
}
