package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// timeReports fetches the operator's report pages over HTTP, signed in,
// each c.rounds times, and prints the median and the slowest.
func timeReports(ctx context.Context, h *hubProcess, c config) error {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: c.reportTimeout}
	resp, err := browser.PostForm(h.url+"/login", url.Values{"token": {h.operator}, "next": {"/"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("sign in: %s", resp.Status)
	}
	first := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	day := func(n int) string { return first.AddDate(0, 0, n).Format("2006-01-02") }
	pages := []struct {
		what, path string
		rounds     int
	}{
		{"region × gender (page)", "/reports?by=region", c.rounds},
		{"region × gender (CSV)", "/reports.csv?by=region", c.rounds},
		{"school × gender (page)", "/reports?by=school", c.rounds},
		{"grade × gender (page)", "/reports?by=grade", c.rounds},
		{"subject × gender (page)", "/reports?by=subject", c.rounds},
		{"pack × gender (page)", "/reports?by=pack", c.rounds},
		{"region × gender, one region (page)", "/reports?by=school&region=Sughd", c.rounds},
		{"boxes (home page)", "/", c.rounds},
		{"fleet page", "/fleet", c.rounds},
		{"region × gender, one day (recount)", "/reports?by=region&from=" + day(1) + "&to=" + day(1), 1},
		{"region × gender, all days (recount)", "/reports?by=region&from=" + day(-1) + "&to=" + day(historyDays), 1},
	}
	fmt.Printf("report pages over HTTP (median / slowest; load average %s when they began):\n", loadAverage())
	for _, p := range pages {
		var times []time.Duration
		var size int
		for range max(1, p.rounds) {
			t0 := time.Now()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url+p.path, nil)
			resp, err := browser.Do(req)
			if err != nil {
				fmt.Printf("  %-40s %v\n", p.what, err)
				break
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				fmt.Printf("  %-40s %s\n", p.what, resp.Status)
				break
			}
			times = append(times, time.Since(t0))
			size = len(b)
		}
		if len(times) == 0 {
			continue
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Printf("  %-40s %8s / %8s  (%d bytes)\n", p.what, times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), size)
	}
	return nil
}

// loadAverage is the machine's load average over the last minute, for
// reading the times: on a shared machine they grow with it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}
