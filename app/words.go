package app

import (
	"fmt"
	"time"
)

// Words renders a duration the way a person says it: "45 s", "59 min",
// "3 h 5 min", "2 days".
func Words(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%d h %d min", h, m)
		}
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// ExpiryWords says when a token expires or expired, relative to now.
func ExpiryWords(now, expiry time.Time) string {
	switch {
	case expiry.IsZero():
		return "expiry unknown"
	case now.Before(expiry):
		return "expires in " + Words(expiry.Sub(now))
	}
	return "expired " + Words(now.Sub(expiry)) + " ago"
}
