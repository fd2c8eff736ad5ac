package timekeeper

import (
	"math"
	"sort"
	"time"
)

// Estimating from the class's devices. Each device that sends its time
// gives one vote: the start of the boot its time implies (its time minus
// the box's time since boot when the request arrived); a newer sample of
// the same device replaces its older one, so one device, however busy,
// votes once. The estimate is the weighted median of the votes once
// outliers — devices whose clock is wrong — are dropped by their distance
// from the median (more than OutlierMADs times the MAD, scaled to a
// standard deviation, never less than MinOutlier, and always one farther
// than MaxOutlier: devices agree when their clocks are within seconds). It
// is trusted only when MinDevices distinct devices agree and they are most
// of those heard. Its uncertainty is the agreeing votes' spread (the
// scaled MAD), and never less than MinDeviceErr: phones learn the time
// from the mobile network to the second.
const (
	MinDevices    = 3                // distinct devices that must agree
	TeacherWeight = 3                // a signed-in teacher's device counts as this many
	MaxDevices    = 256              // devices remembered per boot (the oldest sample goes first)
	OutlierMADs   = 3.0              // a vote farther than this many scaled MADs from the median is dropped
	MinOutlier    = 3 * time.Second  // …and never one nearer than this
	MaxOutlier    = 30 * time.Second // …and always one farther than this
	MinDeviceErr  = time.Second
)

// madScale turns a median absolute deviation into a standard deviation (for
// normally spread errors).
const madScale = 1.4826

// sample is a device's latest vote.
type sample struct {
	start   int64 // the boot's start it implies, unix ms
	weight  int
	arrived time.Duration // the box's time since boot when it came
}

// estimateDevices returns the boot's start as the devices' votes say, and
// its uncertainty; ok is false while too few agree.
func estimateDevices(votes []sample) (start int64, err time.Duration, ok bool) {
	if len(votes) < MinDevices {
		return 0, 0, false
	}
	m := weightedMedian(votes)
	dev := make([]float64, len(votes))
	for i, v := range votes {
		dev[i] = math.Abs(float64(v.start - m))
	}
	cut := math.Max(OutlierMADs*madScale*median(dev), float64(MinOutlier.Milliseconds()))
	cut = math.Min(cut, float64(MaxOutlier.Milliseconds()))
	var in []sample
	for i, v := range votes {
		if dev[i] <= cut {
			in = append(in, v)
		}
	}
	if len(in) < MinDevices || 2*len(in) <= len(votes) {
		return 0, 0, false
	}
	start = weightedMedian(in)
	inDev := make([]float64, len(in))
	for i, v := range in {
		inDev[i] = math.Abs(float64(v.start - start))
	}
	err = time.Duration(madScale*median(inDev)) * time.Millisecond
	return start, max(err, MinDeviceErr), true
}

// weightedMedian is the vote at which half the weight lies on either side
// (the lower one on a tie).
func weightedMedian(votes []sample) int64 {
	s := append([]sample(nil), votes...)
	sort.Slice(s, func(i, j int) bool { return s[i].start < s[j].start })
	total := 0
	for _, v := range s {
		total += v.weight
	}
	acc := 0
	for _, v := range s {
		acc += v.weight
		if 2*acc >= total {
			return v.start
		}
	}
	return s[len(s)-1].start
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
