package ports

import (
	"context"
	"net/http" // the standard library: allowed

	"github.com/stellaops/stella/app" // want `audit\(layer-ports\): ports may import only domain and the standard library`
	"github.com/stellaops/stella/domain"
)

type Store interface {
	Load(ctx context.Context) (domain.Session, error)
}

type Backend interface {
	Do(*http.Request) (*http.Response, error)
}

var _ = app.Name
