package domain

import (
	"testing"

	"go.uber.org/fx" // tests may use third-party helpers
)

var _ = fx.Module

func TestX(t *testing.T) {}
