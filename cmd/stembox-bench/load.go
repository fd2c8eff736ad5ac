package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// cpuSplit divides the machine between the servers and the load: with wrk
// and taskset at hand and two CPUs or more, servers run on all but the last
// CPU and wrk on the last, so a server's share of the machine does not
// depend on how much CPU the load generator is left (and a box serves
// clients that run elsewhere).
type cpuSplit struct{ servers, load string }

var pinning = splitCPUs()

func splitCPUs() cpuSplit {
	n := runtime.NumCPU()
	if n < 2 {
		return cpuSplit{}
	}
	for _, tool := range []string{"taskset", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			return cpuSplit{}
		}
	}
	servers := "0"
	if n > 2 {
		servers = fmt.Sprintf("0-%d", n-2)
	}
	return cpuSplit{servers: servers, load: strconv.Itoa(n - 1)}
}

func (c cpuSplit) describe() string {
	if c.servers == "" {
		return ""
	}
	return fmt.Sprintf("; servers on CPU %s, load on CPU %s", c.servers, c.load)
}

// command returns name with args, run on cpus when they are set.
func command(cpus, name string, args ...string) *exec.Cmd {
	if cpus == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
}

func loaderName() string {
	if _, err := exec.LookPath("wrk"); err == nil {
		return "wrk (1 thread)"
	}
	return "a Go client"
}

// load drives url with conns keep-alive connections for d and returns the
// completed requests per second. It uses wrk when installed (it costs the
// machine less than a Go client), else a Go client.
func load(url string, conns int, d time.Duration) (float64, error) {
	if _, err := exec.LookPath("wrk"); err == nil {
		out, err := command(pinning.load, "wrk", "-t1", "-c"+strconv.Itoa(conns), "-d"+d.String(), "-H", "Accept-Language: en", url).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("wrk: %v: %s", err, out)
		}
		if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
			return 0, fmt.Errorf("wrk saw %s failed responses", m[1])
		}
		m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("wrk output: %s", out)
		}
		return strconv.ParseFloat(string(m[1]), 64)
	}
	var done, failed atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
			for time.Now().Before(stop) {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Accept-Language", "en")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return 0, fmt.Errorf("%d requests failed", n)
	}
	return float64(done.Load()) / d.Seconds(), nil
}
