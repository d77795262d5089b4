package cli

import "github.com/itchyny/gojq" // want `audit\(helper\): only internal/jqrun may import github.com/itchyny/gojq`

var _, _ = gojq.Parse(".")
