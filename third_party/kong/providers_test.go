package kong_test

import (
	"testing"

	"github.com/alecthomas/assert/v2"
)

// Without the ProviderMethods option a Provide* method binds nothing, so a
// Run that needs its value cannot be called.
func TestProviderMethodsAreOptIn(t *testing.T) {
	k := mustNew(t, &providerCLI{})
	kctx, err := k.Parse([]string{"sub"})
	assert.NoError(t, err)
	err = kctx.Run(t)
	assert.Error(t, err)
	assert.Contains(t, err.Error(), "kong_test.ProvidedString")
}
