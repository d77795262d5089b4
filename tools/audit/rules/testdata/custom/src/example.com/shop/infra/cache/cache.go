package cache

import "example.com/shop/infra/db" // want `audit\(layer-infra\): infra must not import infra`

var _ = db.Open
