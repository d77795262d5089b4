package memstore_test

import (
	"context"
	"testing"

	"github.com/stellaops/stella/adapters/memstore"
	"github.com/stellaops/stella/domain"
	"github.com/stellaops/stella/ports/storetest"
)

// BenchmarkMemstoreLoad is the baseline for the file store's load.
func BenchmarkMemstoreLoad(b *testing.B) {
	key := domain.SessionKey{Profile: "default", Issuer: "https://authority.example.com", ClientID: "stella-cli"}
	s := memstore.New()
	_ = s.Save(context.Background(), storetest.Session(key, 4000, 1))
	for b.Loop() {
		if _, err := s.Load(context.Background(), key); err != nil {
			b.Fatal(err)
		}
	}
}
