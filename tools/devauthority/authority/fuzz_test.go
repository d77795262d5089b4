package authority

import (
	"testing"
	"time"
)

// FuzzCheckProof feeds arbitrary proofs to the DPoP validator: it must
// never panic and never accept something that is not a signed dpop+jwt.
func FuzzCheckProof(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0In0.eyJqdGkiOiJ4In0.c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Add("x,y")
	s, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	s.issuer = "http://127.0.0.1:1"
	f.Fuzz(func(t *testing.T, proof string) {
		jkt, err := s.checkProof(proof, "POST", "http://127.0.0.1:1/token", "", time.Now())
		if err == nil && jkt == "" {
			t.Fatal("accepted without a thumbprint")
		}
	})
}
