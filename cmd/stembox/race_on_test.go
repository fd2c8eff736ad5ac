//go:build race

package main

// raceEnabled says the tests run with the race detector, so binaries they
// build use it too (and reuse the same compiled packages).
const raceEnabled = true
