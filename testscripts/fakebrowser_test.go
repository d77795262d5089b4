package testscripts

// The person with a browser the scenarios' sign-ins meet.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// fakeBrowser stands in for a person with a browser, for the scenarios
// (the real browser suite uses Chromium): it follows the sign-in URL and,
// on the consent page, signs in as operator and presses the button named
// by $FAKEBROWSER (approve or deny). With FAKEBROWSER=forge it first sends
// the listener a callback with a forged state. With FAKEBROWSER_PAGE=FILE
// it writes the heading and text of the page it lands on to FILE; with
// FAKEBROWSER_PROBE=FILE it first plays another local user — the start
// address with a foreign Host, then (after the sign-in has begun) the start
// address again and / — and writes each status to FILE.
func fakeBrowser() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fakebrowser URL")
		return 2
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	start, _ := url.Parse(os.Args[1])
	action := os.Getenv("FAKEBROWSER")
	if action == "forge" {
		if resp, err := c.Get(start.Scheme + "://" + start.Host + "/callback?state=forged&code=stolen"); err == nil {
			resp.Body.Close()
		}
		action = "approve"
	}
	var probes []string
	probe := func(name, u, host string) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if host != "" {
			req.Host = host
		}
		noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			probes = append(probes, name+" error")
			return
		}
		resp.Body.Close()
		probes = append(probes, fmt.Sprintf("%s %d %s", name, resp.StatusCode, resp.Header.Get("Location")))
	}
	probeFile := os.Getenv("FAKEBROWSER_PROBE")
	if probeFile != "" {
		probe("foreign-host", os.Args[1], "evil.example:"+start.Port())
	}
	landed := func(body []byte) { // the page last: scripts wait for it
		if probeFile != "" {
			_ = os.WriteFile(probeFile, []byte(strings.Join(probes, "\n")+"\n"), 0o600)
		}
		if f := os.Getenv("FAKEBROWSER_PAGE"); f != "" {
			text := regexp.MustCompile(`<[^>]+>`).ReplaceAll(regexp.MustCompile(`(?s)<head>.*</head>`).ReplaceAll(body, nil), []byte(" "))
			_ = os.WriteFile(f, bytes.Join(bytes.Fields(text), []byte(" ")), 0o600)
		}
	}
	resp, err := c.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if probeFile != "" {
		probe("second-start", os.Args[1], "")
		probe("root", start.Scheme+"://"+start.Host+"/", "")
	}
	m := regexp.MustCompile(`name="request" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		landed(body)
		return 0 // auto-approved: the callback page was reached
	}
	form := url.Values{"request": {string(m[1])}, "action": {action}, "username": {"operator"}, "password": {"operator"}}
	resp, err = c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/authorize", form)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	landed(body)
	return 0
}
