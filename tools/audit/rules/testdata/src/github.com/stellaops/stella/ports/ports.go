package ports

import (
	"context"

	"github.com/stellaops/stella/app" // want `audit\(layer-ports\): ports may import only domain`
	"github.com/stellaops/stella/domain"
)

type Store interface {
	Load(ctx context.Context) (domain.Session, error)
}

var _ = app.Name
