package app

import "go.uber.org/fx" // fx is allowed in module.go only

var Module = fx.Module("app")
