package gojq

// Parse stands in for gojq.Parse.
func Parse(src string) (any, error) { return src, nil }
