package filestore

import (
	"testing"

	keyring "github.com/zalando/go-keyring" // the raw credential rules skip tests

	"golang.org/x/oauth2"
)

type Fixture struct{ Password string }

func TestX(t *testing.T) {
	_ = keyring.Get
	_ = &oauth2.Token{}
}
