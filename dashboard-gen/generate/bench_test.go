package generate_test

import (
	"os"
	"testing"

	"coopcloud.tech/cc-ci/dashboard-gen/fakehistory"
)

// BenchmarkFullGeneration renders a 2,000-build history across 50 recipes from scratch (the
// FAKE Drone's API time included; bench/dashboard.sh separates it and measures the real binary).
func BenchmarkFullGeneration(b *testing.B) {
	w := newWorld(b, fakehistory.Mixed(2000, fakehistory.Recipes(50)))
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(w.settings.StatePath); err != nil {
			b.Fatal(err)
		}
		if err := os.RemoveAll(w.settings.Out); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		w.generate(b)
	}
}

// BenchmarkIncremental adds one build to a 10,000-build history already rendered and brings
// the site up to date.
func BenchmarkIncremental(b *testing.B) {
	recipes := fakehistory.Recipes(50)
	w := newWorld(b, fakehistory.Mixed(10000, recipes))
	w.generate(b)
	n := int64(10000)
	for b.Loop() {
		b.StopTimer()
		n++
		w.seed(b, fakehistory.Make(n, recipes[n%50], fakehistory.Pass))
		b.StartTimer()
		w.generate(b)
	}
}
